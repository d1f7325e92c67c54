//! Parallel inflate of one gzip member: speculative on worker threads, verified in order.
//!
//! A deflate stream has no index, but a writer that ends its blocks with a sync flush (packtest's
//! own [`crate::gzip`] writer does every 1 MiB of input, as pigz does every 128 KiB) leaves an
//! empty stored block, the bytes `00 00 FF FF`, where the next block starts on a byte boundary.
//! The compressed member is cut into segments at such points (at least [`MIN_SEGMENT`] apart,
//! at most [`MAX_SEGMENT`] long), and each segment that starts at one is inflated on a worker
//! thread from scratch, with no window. That guess is only ever *used* after it is proven:
//!
//! - the segment really starts between two blocks: the decoder of everything before it, fed
//!   exactly the bytes up to the cut, stopped between blocks with no bit left over (zlib's
//!   `Z_BLOCK` state in `data_type`), so four bytes that merely look like a sync point inside
//!   stored data or a Huffman code never pass;
//! - the segment needed nothing from before it: a back-reference past its start makes the
//!   windowless decoder fail ("invalid distance too far back"), and any failure, of any kind,
//!   throws the guess away.
//!
//! Everything else (the first failed guess, a segment with no sync point, a writer that primes
//! each block with the previous one's window as pigz does) is inflated here, in order, by a
//! decoder in the true state with the true 32 KiB window: the same bytes and the same errors as
//! the one-thread reader, at the same place in the output. After [`GIVE_UP_AFTER`] wasted
//! guesses in a row a member is read in order only, so a foreign archive costs nothing extra.
//! Memory is bounded: at most `workers + 2` segments are in flight, a guess stops at
//! [`GUESS_CAP`] bytes of output, and the reader's CRC32, ISIZE and unpacked limit checks in
//! [`super::gzip`] see every byte exactly as before.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, BufRead};
use std::mem::MaybeUninit;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use libz_rs_sys as z;

use super::error::ArchiveError;

/// A segment is cut at the first sync point at least this many bytes after its start.
pub(crate) const MIN_SEGMENT: usize = 256 * 1024;
/// With no sync point, a segment is cut here; what follows such a cut is inflated in order.
pub(crate) const MAX_SEGMENT: usize = 2 << 20;
/// A guess that would inflate to more than this is given up (and the segment read in order).
pub(crate) const GUESS_CAP: usize = 8 << 20;
/// Wasted guesses in a row after which the rest of a member is read in order only.
pub(crate) const GIVE_UP_AFTER: u32 = 8;
/// Deflate's window.
const WINDOW: usize = 32 * 1024;
/// A guess's output grows whenever less than this is free.
const MIN_SPARE: usize = 64 * 1024;
/// The end of an empty stored block: what a sync flush leaves on a byte boundary.
const SYNC: [u8; 4] = [0, 0, 0xff, 0xff];

/// A raw-deflate decoder over zlib-rs's zlib API, used where the safe wrappers stop short: the
/// state between blocks (`data_type`) and a window set in the middle of a stream.
pub(crate) struct Raw(Box<z::z_stream>);

// SAFETY: the stream's state is allocated by zlib-rs for this stream alone, and `next_in` and
// `next_out` are cleared after every call, so no pointer into another thread's memory remains.
unsafe impl Send for Raw {}

/// What one call to [`Raw::inflate`] did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    pub consumed: usize,
    pub produced: usize,
    /// The final block ended.
    pub end: bool,
}

impl Raw {
    /// A decoder at the start of a raw deflate stream (15-bit window).
    pub(crate) fn new() -> io::Result<Raw> {
        let mut s = Box::new(z::z_stream::default());
        let size = std::mem::size_of::<z::z_stream>() as i32;
        // SAFETY: `s` is a default z_stream (null allocators: zlib-rs's own), the version
        // string is zlib-rs's own, and `size` is the struct's size.
        let rc = unsafe { z::inflateInit2_(&mut *s, -15, z::zlibVersion(), size) };
        if rc != z::Z_OK {
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                format!("cannot start an inflate stream (zlib code {rc})"),
            ));
        }
        Ok(Raw(s))
    }

    /// Makes `tail` (at most the last 32 KiB of the output so far) the window, as if the
    /// decoder had produced it.
    pub(crate) fn set_window(&mut self, tail: &[u8]) {
        debug_assert!(tail.len() <= WINDOW);
        // SAFETY: the stream was initialized by `new`; `tail` is a valid slice for the call.
        // For a raw stream zlib accepts a dictionary at any point; it cannot fail here.
        unsafe { z::inflateSetDictionary(&mut *self.0, tail.as_ptr(), tail.len() as u32) };
    }

    /// Inflates from `input` into `out`, which may be uninitialized, stopping early at the end
    /// of a block (`Z_BLOCK`: only there does zlib say that it is between blocks).
    pub(crate) fn inflate(
        &mut self,
        input: &[u8],
        out: &mut [MaybeUninit<u8>],
    ) -> Result<Step, (Step, String)> {
        let (in_len, out_len) = (
            input.len().min(u32::MAX as usize),
            out.len().min(u32::MAX as usize),
        );
        let s = &mut *self.0;
        s.next_in = input.as_ptr();
        s.avail_in = in_len as u32;
        s.next_out = out.as_mut_ptr().cast();
        s.avail_out = out_len as u32;
        // SAFETY: the stream was initialized by `new`, and next_in/next_out point at `in_len`
        // readable and `out_len` writable bytes that outlive the call.
        let rc = unsafe { z::inflate(s, z::Z_BLOCK) };
        let step = Step {
            consumed: in_len - s.avail_in as usize,
            produced: out_len - s.avail_out as usize,
            end: rc == z::Z_STREAM_END,
        };
        s.next_in = std::ptr::null();
        s.avail_in = 0;
        s.next_out = std::ptr::null_mut();
        s.avail_out = 0;
        match rc {
            z::Z_OK | z::Z_STREAM_END | z::Z_BUF_ERROR => Ok(step),
            _ => Err((step, self.message(rc))),
        }
    }

    fn message(&self, rc: i32) -> String {
        if self.0.msg.is_null() {
            return format!("deflate decompression error (zlib code {rc})");
        }
        // SAFETY: zlib-rs sets `msg` to a static, NUL-terminated string.
        let msg = unsafe { std::ffi::CStr::from_ptr(self.0.msg) };
        format!("deflate decompression error: {}", msg.to_string_lossy())
    }

    /// The decoder stopped between two blocks, on a byte boundary, before the final block: the
    /// next block starts at the next input byte.
    pub(crate) fn between_blocks(&self) -> bool {
        let d = self.0.data_type;
        d & 128 != 0 && d & 64 == 0 && d & 63 == 0
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        // SAFETY: the stream was initialized by `new` and is ended exactly once.
        unsafe { z::inflateEnd(&mut *self.0) };
    }
}

/// Inflates all of `input` (or up to the end of the stream) into a vector, growing it up to
/// `cap` bytes. Returns the step totals, or an error message; `None` when the cap was hit.
fn inflate_all(
    d: &mut Raw,
    input: &[u8],
    out: &mut Vec<u8>,
    cap: usize,
) -> Result<Option<Step>, String> {
    let mut total = Step {
        consumed: 0,
        produced: 0,
        end: false,
    };
    loop {
        if out.len() >= cap {
            return Ok(None);
        }
        if out.capacity() - out.len() < MIN_SPARE {
            out.reserve_exact(out.len().max(MIN_SPARE).min(cap - out.len()));
        }
        let before = out.len();
        let step = d
            .inflate(&input[total.consumed..], out.spare_capacity_mut())
            .map_err(|(_, msg)| msg)?;
        // SAFETY: inflate initialized exactly `produced` bytes of the spare capacity.
        unsafe { out.set_len(before + step.produced) };
        total.consumed += step.consumed;
        total.produced += step.produced;
        if step.end {
            total.end = true;
            return Ok(Some(total));
        }
        // All input taken and room left over: nothing more is pending.
        if total.consumed == input.len() && out.len() < out.capacity() {
            return Ok(Some(total));
        }
        if step.consumed == 0 && step.produced == 0 {
            return Err("the deflate stream makes no progress".into());
        }
    }
}

/// A cut piece of the compressed member.
struct Segment {
    index: u64,
    /// Compressed offset of its first byte.
    at: u64,
    data: Arc<Vec<u8>>,
    /// Sent to a worker.
    guessed: bool,
}

/// A worker's guess at one segment.
enum Guess {
    /// Inflated up to the end of the stream, `consumed` bytes into the segment.
    Ended { out: Vec<u8>, consumed: usize },
    /// Inflated the whole segment; the decoder is where the segment ends.
    Through { out: Vec<u8>, decoder: Raw },
    /// Failed, or too large: the segment is read in order.
    Wasted,
}

struct Job {
    index: u64,
    data: Arc<Vec<u8>>,
}

fn guess(data: &[u8]) -> Guess {
    let Ok(mut d) = Raw::new() else {
        return Guess::Wasted;
    };
    let mut out = Vec::with_capacity((data.len() * 2).min(GUESS_CAP));
    match inflate_all(&mut d, data, &mut out, GUESS_CAP) {
        Ok(Some(step)) if step.end => Guess::Ended {
            out,
            consumed: step.consumed,
        },
        Ok(Some(_)) => Guess::Through { out, decoder: d },
        Ok(None) | Err(_) => Guess::Wasted,
    }
}

/// Worker threads taking segments from one queue.
struct Pool {
    jobs: Option<SyncSender<Job>>,
    results: Receiver<(u64, Guess)>,
    threads: Vec<JoinHandle<()>>,
}

impl Pool {
    fn start(workers: usize) -> Pool {
        let (jobs, rx) = mpsc::sync_channel::<Job>(workers + 2);
        let rx = Arc::new(Mutex::new(rx));
        let (done, results) = mpsc::channel::<(u64, Guess)>();
        let threads = (0..workers)
            .filter_map(|i| {
                let rx = Arc::clone(&rx);
                let done: Sender<(u64, Guess)> = done.clone();
                std::thread::Builder::new()
                    .name(format!("packtest-inflate-{i}"))
                    .spawn(move || loop {
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        if done.send((job.index, guess(&job.data))).is_err() {
                            return;
                        }
                    })
                    .ok()
            })
            .collect();
        Pool {
            jobs: Some(jobs),
            results,
            threads,
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.jobs = None; // hang up: each worker ends after its current segment
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Where the in-order decoding stands at the start of the next segment.
enum Now {
    /// Between blocks (or at the start of the member): any decoder with the true window goes on
    /// from here, so a worker's guess from here is the truth.
    Between,
    /// In the middle of a block: only this decoder can go on.
    Inside(Raw),
}

/// The segment being inflated in order.
struct InOrder {
    seg: Segment,
    pos: usize,
    decoder: Raw,
}

/// Gzip members' bodies, inflated in parallel; one per reader, restarted at each member.
pub(crate) struct ParallelBody {
    workers: usize,
    pool: Option<Pool>,
    /// Compressed bytes read but not yet cut, starting at `ahead_at`.
    ahead: Vec<u8>,
    ahead_at: u64,
    /// How far `ahead` was searched for a sync point.
    scanned: usize,
    eof: bool,
    /// The next segment to be cut may start between blocks: at the member's start or right
    /// after a sync point.
    next_starts_clean: bool,
    segments: VecDeque<Segment>,
    next_index: u64,
    guesses: BTreeMap<u64, Guess>,
    now: Option<Now>,
    in_order: Option<InOrder>,
    /// Accepted guessed output not yet handed out.
    ready: Vec<u8>,
    ready_pos: usize,
    /// The last 32 KiB of the true output.
    tail: Vec<u8>,
    wasted_in_a_row: u32,
    guessing: bool,
    /// An error to report once the bytes inflated before it are handed out.
    pending: Option<ArchiveError>,
    /// Compressed offset up to which the true decoding has read.
    pub(crate) offset: u64,
    /// Set once the stream's final block ended.
    pub(crate) ended: bool,
    /// Guesses used, over the reader's life (for tests and benches).
    pub(crate) used: u64,
    /// Segments read in order, over the reader's life.
    pub(crate) read_in_order: u64,
    /// Guesses thrown away, over the reader's life.
    pub(crate) wasted: u64,
}

fn remember(tail: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() >= WINDOW {
        tail.clear();
        tail.extend_from_slice(&bytes[bytes.len() - WINDOW..]);
    } else {
        let keep = WINDOW - bytes.len();
        if tail.len() > keep {
            tail.drain(..tail.len() - keep);
        }
        tail.extend_from_slice(bytes);
    }
}

impl ParallelBody {
    /// A reader of bodies with `workers` threads for guesses (started at the first guess).
    pub(crate) fn new(workers: usize) -> ParallelBody {
        ParallelBody {
            workers,
            pool: None,
            ahead: Vec::new(),
            ahead_at: 0,
            scanned: 0,
            eof: false,
            next_starts_clean: true,
            segments: VecDeque::new(),
            next_index: 0,
            guesses: BTreeMap::new(),
            now: Some(Now::Between),
            in_order: None,
            ready: Vec::new(),
            ready_pos: 0,
            tail: Vec::new(),
            wasted_in_a_row: 0,
            guessing: workers > 1,
            pending: None,
            offset: 0,
            ended: false,
            used: 0,
            read_in_order: 0,
            wasted: 0,
        }
    }

    /// Starts a member's body at compressed offset `offset`. Guesses still running for the last
    /// member are ignored when they arrive (segment numbers only grow).
    pub(crate) fn start(&mut self, offset: u64) {
        debug_assert!(self.segments.is_empty() && self.ahead.is_empty());
        self.ahead_at = offset;
        self.scanned = 0;
        self.eof = false;
        self.next_starts_clean = true;
        self.guesses.clear();
        self.now = Some(Now::Between);
        self.in_order = None;
        self.ready.clear();
        self.ready_pos = 0;
        self.tail.clear();
        self.wasted_in_a_row = 0;
        self.guessing = self.workers > 1;
        self.pending = None;
        self.offset = offset;
        self.ended = false;
    }

    /// After the stream ended: the compressed bytes read past its end, to be read again as the
    /// trailer and what follows it.
    pub(crate) fn take_leftover(&mut self) -> Vec<u8> {
        // Both ways a stream ends (a guess that ended it, or the in-order decoder) already put
        // the rest of their piece and every later piece in front of `ahead`.
        debug_assert!(self.in_order.is_none() && self.segments.is_empty());
        std::mem::take(&mut self.ahead)
    }

    /// Reads compressed input until a segment can be cut; false at EOF with nothing left.
    fn cut(&mut self, input: &mut impl BufRead) -> io::Result<bool> {
        loop {
            // A sync point at least MIN_SEGMENT in: the segment ends right after it.
            if self.ahead.len() >= MIN_SEGMENT {
                let from = self.scanned.max(MIN_SEGMENT - SYNC.len());
                if let Some(p) = memchr::memmem::find(&self.ahead[from..], &SYNC) {
                    self.push_segment(from + p + SYNC.len(), true);
                    return Ok(true);
                }
                self.scanned = self.ahead.len().saturating_sub(SYNC.len() - 1);
            }
            if self.ahead.len() >= MAX_SEGMENT {
                self.push_segment(MAX_SEGMENT, false);
                return Ok(true);
            }
            if self.eof {
                if self.ahead.is_empty() {
                    return Ok(false);
                }
                self.push_segment(self.ahead.len(), false);
                return Ok(true);
            }
            let buf = input.fill_buf()?;
            if buf.is_empty() {
                self.eof = true;
                continue;
            }
            let n = buf.len().min(MAX_SEGMENT - self.ahead.len());
            self.ahead.extend_from_slice(&buf[..n]);
            input.consume(n);
        }
    }

    /// Cuts `ahead[..end]` off as the next segment, and sends it to a worker when it may start
    /// between blocks and is not the end of the input (a last segment gains nothing: it would
    /// be waited for at once).
    fn push_segment(&mut self, end: usize, at_sync: bool) {
        let rest = self.ahead.split_off(end);
        let data = Arc::new(std::mem::replace(&mut self.ahead, rest));
        let at = self.ahead_at;
        self.ahead_at += end as u64;
        self.scanned = 0;
        let index = self.next_index;
        self.next_index += 1;
        let last = self.eof && self.ahead.is_empty();
        let mut guessed = false;
        if self.guessing && self.next_starts_clean && !last {
            let workers = self.workers;
            let pool = self.pool.get_or_insert_with(|| Pool::start(workers));
            if let Some(jobs) = &pool.jobs {
                guessed = jobs
                    .send(Job {
                        index,
                        data: Arc::clone(&data),
                    })
                    .is_ok();
            }
        }
        self.next_starts_clean = at_sync;
        self.segments.push_back(Segment {
            index,
            at,
            data,
            guessed,
        });
    }

    fn fill_pipeline(&mut self, input: &mut impl BufRead) -> io::Result<()> {
        while self.segments.len() < self.workers + 2 {
            if !self.cut(input)? {
                break;
            }
        }
        Ok(())
    }

    fn wait_for(&mut self, index: u64) -> Guess {
        loop {
            if let Some(g) = self.guesses.remove(&index) {
                return g;
            }
            let Some(pool) = &self.pool else {
                return Guess::Wasted;
            };
            match pool.results.recv() {
                Ok((i, g)) => {
                    if i >= index {
                        self.guesses.insert(i, g);
                    }
                }
                // Every worker ended (a panic): read in order.
                Err(_) => return Guess::Wasted,
            }
        }
    }

    fn wasted(&mut self) {
        self.wasted += 1;
        self.wasted_in_a_row += 1;
        if self.wasted_in_a_row >= GIVE_UP_AFTER {
            self.guessing = false;
        }
    }

    /// Inflates the next bytes of the body into `out`. Returns 0 when the stream has ended
    /// ([`Self::ended`]) or the input ended before it (a truncated member). A deflate error comes
    /// after every byte inflated before it.
    pub(crate) fn read(
        &mut self,
        input: &mut impl BufRead,
        out: &mut [u8],
    ) -> Result<usize, ArchiveError> {
        loop {
            if self.ready_pos < self.ready.len() {
                let n = out.len().min(self.ready.len() - self.ready_pos);
                out[..n].copy_from_slice(&self.ready[self.ready_pos..self.ready_pos + n]);
                self.ready_pos += n;
                return Ok(n);
            }
            if let Some(e) = self.pending.take() {
                return Err(e);
            }
            if self.ended {
                return Ok(0);
            }
            if self.in_order.is_some() {
                match self.step_in_order(out) {
                    0 => continue,
                    n => return Ok(n),
                }
            }
            self.fill_pipeline(input).map_err(ArchiveError::Io)?;
            let Some(seg) = self.segments.pop_front() else {
                return Ok(0); // truncated: the caller knows the member
            };
            let guess = if seg.guessed {
                self.wait_for(seg.index)
            } else {
                Guess::Wasted
            };
            let now = self.now.take().unwrap_or(Now::Between);
            match (now, guess) {
                (
                    Now::Between,
                    Guess::Ended {
                        out: bytes,
                        consumed,
                    },
                ) => {
                    self.accept(bytes, seg.at + consumed as u64);
                    self.ended = true;
                    self.ahead_front(seg.data[consumed..].to_vec());
                }
                (
                    Now::Between,
                    Guess::Through {
                        out: bytes,
                        decoder,
                    },
                ) => {
                    if decoder.between_blocks() {
                        self.now = Some(Now::Between);
                    } else if bytes.len() >= WINDOW {
                        // Its window is its own last 32 KiB: the true one.
                        self.now = Some(Now::Inside(decoder));
                    } else {
                        // Too short to hold the true window: read it in order.
                        self.start_in_order(seg, None)?;
                        continue;
                    }
                    self.accept(bytes, seg.at + seg.data.len() as u64);
                }
                (Now::Between, Guess::Wasted) => {
                    if seg.guessed {
                        self.wasted();
                    }
                    self.start_in_order(seg, None)?;
                }
                (Now::Inside(decoder), _) => {
                    if seg.guessed {
                        self.wasted();
                    }
                    self.start_in_order(seg, Some(decoder))?;
                }
            }
        }
    }

    /// Puts bytes read past the stream's end back in front of the unread input.
    fn ahead_front(&mut self, mut rest: Vec<u8>) {
        for s in self.segments.drain(..) {
            rest.extend_from_slice(&s.data);
        }
        rest.append(&mut self.ahead);
        self.ahead = rest;
    }

    fn accept(&mut self, bytes: Vec<u8>, offset: u64) {
        self.wasted_in_a_row = 0;
        self.used += 1;
        remember(&mut self.tail, &bytes);
        self.ready = bytes;
        self.ready_pos = 0;
        self.offset = offset;
    }

    fn start_in_order(&mut self, seg: Segment, decoder: Option<Raw>) -> Result<(), ArchiveError> {
        let decoder = match decoder {
            Some(d) => d,
            None => {
                let mut d = Raw::new().map_err(ArchiveError::Io)?;
                if !self.tail.is_empty() {
                    d.set_window(&self.tail);
                }
                d
            }
        };
        self.read_in_order += 1;
        self.in_order = Some(InOrder {
            seg,
            pos: 0,
            decoder,
        });
        Ok(())
    }

    /// One call of the in-order decoder into `out`: the bytes produced (0 when the segment or
    /// the stream just ended, or an error was set aside for after them).
    fn step_in_order(&mut self, out: &mut [u8]) -> usize {
        let Some(io) = self.in_order.as_mut() else {
            return 0;
        };
        // SAFETY: a `&mut [u8]` is a valid `&mut [MaybeUninit<u8>]`, and inflate only writes
        // initialized bytes into it.
        let out_uninit: &mut [MaybeUninit<u8>] =
            unsafe { &mut *(out as *mut [u8] as *mut [MaybeUninit<u8>]) };
        let (step, error) = match io.decoder.inflate(&io.seg.data[io.pos..], out_uninit) {
            Ok(step) => (step, None),
            Err((step, reason)) => (step, Some(reason)),
        };
        io.pos += step.consumed;
        let at = io.seg.at + io.pos as u64;
        let segment_done = io.pos == io.seg.data.len() && step.produced < out.len();
        let no_progress = step.consumed == 0 && step.produced == 0;
        self.offset = at;
        remember(&mut self.tail, &out[..step.produced]);
        if let Some(reason) = error {
            self.in_order = None;
            self.ended = true;
            self.pending = Some(ArchiveError::Deflate { offset: at, reason });
        } else if step.end {
            self.ended = true;
            if let Some(io) = self.in_order.take() {
                self.ahead_front(io.seg.data[io.pos..].to_vec());
            }
        } else if segment_done {
            if let Some(io) = self.in_order.take() {
                self.now = Some(if io.decoder.between_blocks() {
                    Now::Between
                } else {
                    Now::Inside(io.decoder)
                });
            }
        } else if no_progress {
            self.in_order = None;
            self.ended = true;
            self.pending = Some(ArchiveError::Deflate {
                offset: at,
                reason: "the deflate stream makes no progress".into(),
            });
        }
        step.produced
    }
}

#[cfg(test)]
mod tests {
    use super::super::gzip::GzipReader;
    use super::super::ArchiveError;
    use super::*;
    use proptest::prelude::*;
    use std::io::Read;
    use zlib_rs::{Deflate, DeflateConfig, DeflateFlush, Strategy as ZStrategy};

    /// What a reader saw: the bytes, then the error's class and message, and the statistics.
    #[derive(Debug, PartialEq)]
    struct Seen {
        bytes: Vec<u8>,
        error: Option<(String, String)>,
        members: u32,
    }

    fn read(gz: &[u8], workers: usize) -> (Seen, Option<(u64, u64, u64)>) {
        let mut r = GzipReader::new(gz, None).with_workers(workers);
        let mut bytes = Vec::new();
        let mut buf = vec![0u8; 100_000];
        let error = loop {
            match r.read(&mut buf) {
                Ok(0) => break None,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
                Err(e) => {
                    let e = ArchiveError::from_io(e);
                    break Some((e.class().to_string(), e.to_string()));
                }
            }
        };
        let stats = r.parallel_stats();
        let members = r.members;
        (
            Seen {
                bytes,
                error,
                members,
            },
            stats,
        )
    }

    /// How a test stream is cut into deflate blocks.
    #[derive(Clone, Copy, Debug)]
    enum Cut {
        /// Each block deflated on its own and ended with a sync flush: packtest's writer.
        Independent { level: i32, huffman: bool },
        /// One stream with a sync flush every block, so back-references cross them: pigz.
        Primed { level: i32 },
    }

    fn deflate(level: i32, huffman: bool) -> Deflate {
        Deflate::new_with_config(DeflateConfig {
            level,
            window_bits: -15,
            strategy: if huffman {
                ZStrategy::HuffmanOnly
            } else {
                ZStrategy::Default
            },
            ..DeflateConfig::default()
        })
    }

    fn run(d: &mut Deflate, data: &[u8], flush: DeflateFlush, out: &mut Vec<u8>) {
        let mut buf = vec![0u8; zlib_rs::compress_bound(data.len()) + 64];
        let (in0, out0) = (d.total_in(), d.total_out());
        d.compress(data, &mut buf, flush).unwrap();
        assert_eq!((d.total_in() - in0) as usize, data.len());
        out.extend_from_slice(&buf[..(d.total_out() - out0) as usize]);
    }

    /// A one-member gzip of `data` cut into `block`-byte blocks.
    fn gzip(data: &[u8], block: usize, cut: Cut) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        let blocks: Vec<&[u8]> = data.chunks(block.max(1)).collect();
        let mut primed = match cut {
            Cut::Primed { level } => Some(deflate(level, false)),
            Cut::Independent { .. } => None,
        };
        for (i, b) in blocks.iter().enumerate() {
            let flush = if i + 1 == blocks.len() {
                DeflateFlush::Finish
            } else {
                DeflateFlush::SyncFlush
            };
            match (&mut primed, cut) {
                (Some(d), _) => run(d, b, flush, &mut out),
                (None, Cut::Independent { level, huffman }) => {
                    run(&mut deflate(level, huffman), b, flush, &mut out)
                }
                (None, Cut::Primed { .. }) => unreachable!(),
            }
        }
        if blocks.is_empty() {
            run(&mut deflate(6, false), &[], DeflateFlush::Finish, &mut out);
        }
        out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out
    }

    /// Test data of a kind: 0 weight-like floats, 1 text, 2 random, 3 zeros, 4 full of the
    /// sync pattern.
    fn data(kind: u8, len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let words = [
            "model", "weights", "tensor", "layer", "the", "of", "batch", "\n",
        ];
        let mut v = Vec::with_capacity(len + 16);
        while v.len() < len {
            match kind {
                0 => v.extend_from_slice(&((next() % 2000) as f32 / 1000.0 - 1.0).to_le_bytes()),
                1 => {
                    v.extend_from_slice(words[(next() % 8) as usize].as_bytes());
                    v.push(b' ');
                }
                2 => v.extend_from_slice(&next().to_le_bytes()),
                3 => v.push(0),
                _ => {
                    v.extend_from_slice(&SYNC);
                    v.extend_from_slice(&next().to_le_bytes()[..(next() % 5) as usize]);
                }
            }
        }
        v.truncate(len);
        v
    }

    #[test]
    fn guesses_are_used_on_independent_blocks_and_give_the_same_bytes() {
        let d = data(0, 6 << 20, 1);
        for huffman in [true, false] {
            let gz = gzip(&d, 1 << 20, Cut::Independent { level: 6, huffman });
            let (one, _) = read(&gz, 1);
            let (two, stats) = read(&gz, 2);
            assert_eq!(one.error, None);
            assert!(
                one.bytes == d && two == one,
                "huffman {huffman}: {:?}",
                two.error
            );
            let (used, in_order, wasted) = stats.unwrap();
            assert!(
                used >= 4 && in_order <= 1,
                "used {used}, in order {in_order}"
            );
            assert_eq!(wasted, 0);
        }
    }

    #[test]
    fn pieces_are_cut_no_closer_than_min_segment() {
        // A sync point every ~46 KiB of compressed data: pieces gather several of them.
        let d = data(0, 3 << 20, 7);
        let gz = gzip(
            &d,
            50_000,
            Cut::Independent {
                level: 6,
                huffman: true,
            },
        );
        let (two, stats) = read(&gz, 2);
        assert!(two.bytes == d && two.error.is_none(), "{:?}", two.error);
        let (used, in_order, _) = stats.unwrap();
        // 256 KiB written out: a test that read MIN_SEGMENT would follow any change to it.
        let most = (gz.len() / (256 * 1024) + 1) as u64;
        assert!(
            used + in_order <= most && used >= 4,
            "{used} guesses used and {in_order} pieces read in order for {} compressed bytes",
            gz.len()
        );
    }

    #[test]
    fn the_window_kept_is_the_last_32_kib_whatever_the_chunks() {
        let all: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 300) as u8).collect();
        for sizes in [&[1usize, 100, 5000][..], &[40_000, 3], &[32_768, 32_767, 1]] {
            let mut tail = Vec::new();
            let mut at = 0;
            for &n in sizes.iter().cycle() {
                if at == all.len() {
                    break;
                }
                let end = (at + n).min(all.len());
                remember(&mut tail, &all[at..end]);
                at = end;
                let want = &all[end.saturating_sub(WINDOW)..end];
                assert!(tail == want, "after {end} bytes in chunks of {sizes:?}");
            }
        }
    }

    #[test]
    fn a_guess_that_inflates_to_many_times_its_size_grows_its_buffer_and_is_used() {
        // Text at level 6 inflates to about 4x: past the first buffer (twice the piece).
        let d = data(1, 12 << 20, 8);
        let gz = gzip(
            &d,
            1 << 20,
            Cut::Independent {
                level: 6,
                huffman: false,
            },
        );
        assert!(gz.len() * 3 < d.len(), "{} of {}", gz.len(), d.len());
        let (two, stats) = read(&gz, 2);
        assert!(two.bytes == d && two.error.is_none(), "{:?}", two.error);
        let (used, _, wasted) = stats.unwrap();
        assert!(used >= 2 && wasted == 0, "used {used}, wasted {wasted}");
    }

    #[test]
    fn a_plain_gzip_has_no_sync_point_and_costs_no_guess() {
        let d = data(1, 5 << 20, 2);
        let gz = gzip(
            &d,
            usize::MAX,
            Cut::Independent {
                level: 6,
                huffman: false,
            },
        );
        let (two, stats) = read(&gz, 2);
        assert!(two.bytes == d && two.error.is_none(), "{:?}", two.error);
        assert_eq!(stats.unwrap().0, 0, "no guess is used");
    }

    #[test]
    fn primed_blocks_come_out_right_whatever_the_guesses() {
        // pigz-style: back-references cross every sync point, so most guesses fail ("invalid
        // distance too far back") and those segments are read in order with the true window.
        let d = data(0, 12 << 20, 3);
        let gz = gzip(&d, 300_000, Cut::Primed { level: 6 });
        let (one, _) = read(&gz, 1);
        let (two, stats) = read(&gz, 2);
        assert!(one.bytes == d && two == one, "{:?}", two.error);
        let (used, in_order, wasted) = stats.unwrap();
        assert!(
            used <= 1 && in_order >= 16,
            "guesses used {used}, segments read in order {in_order}"
        );
        // After GIVE_UP_AFTER wasted guesses in a row no more are made; those already sent
        // (at most workers + 2) still count.
        assert!(
            (u64::from(GIVE_UP_AFTER)..=u64::from(GIVE_UP_AFTER) + 4).contains(&wasted),
            "{wasted} guesses wasted"
        );
    }

    #[test]
    fn the_sync_pattern_inside_stored_data_is_never_taken_for_a_block_boundary() {
        // Level 0 stores the data, and the data is full of 00 00 FF FF: every cut lands inside
        // a stored block, where a windowless guess decodes garbage. Only the decoder's own
        // "between blocks" state may let a guess through.
        let d = data(4, 3 << 20, 4);
        for block in [1 << 20, 200_000] {
            let gz = gzip(
                &d,
                block,
                Cut::Independent {
                    level: 0,
                    huffman: false,
                },
            );
            let (one, _) = read(&gz, 1);
            let (two, _) = read(&gz, 3);
            assert!(one.bytes == d, "{:?}", one.error);
            assert!(two == one, "block {block}: {:?}", two.error);
        }
    }

    #[test]
    fn members_after_a_parallel_one_and_trailing_garbage_are_read_as_before() {
        let a = data(0, 3 << 20, 5);
        let b = data(1, 600_000, 6);
        let mut gz = gzip(
            &a,
            1 << 20,
            Cut::Independent {
                level: 6,
                huffman: true,
            },
        );
        gz.extend(gzip(
            &b,
            1 << 20,
            Cut::Independent {
                level: 6,
                huffman: false,
            },
        ));
        gz.extend(gzip(
            &a,
            1 << 20,
            Cut::Independent {
                level: 1,
                huffman: false,
            },
        ));
        let (one, _) = read(&gz, 1);
        assert_eq!((one.members, one.error.as_ref()), (3, None));
        assert_eq!(read(&gz, 2).0, one);
        gz.extend_from_slice(b"garbage after the last member");
        let (one, _) = read(&gz, 1);
        assert_eq!(
            one.error.as_ref().map(|e| e.0.as_str()),
            Some("trailing-garbage")
        );
        assert_eq!(read(&gz, 2).0, one);
    }

    proptest! {
        #![proptest_config(crate::strategy::ci_config(24, "PROPTEST_RNG_SEED", 3316))]

        /// The parallel reader is the one-thread reader, byte for byte and error for error, on
        /// every kind of stream, whole, cut short, with a flipped byte or with bytes added.
        #[test]
        fn parallel_and_one_thread_readers_agree(
            kind in 0u8..5,
            len in 0usize..(3 << 20),
            block in prop_oneof![Just(1usize << 20), 40_000usize..1_500_000],
            cut in prop_oneof![
                (0i32..10, any::<bool>()).prop_map(|(level, huffman)| Cut::Independent { level, huffman }),
                (1i32..10).prop_map(|level| Cut::Primed { level }),
            ],
            damage in 0u8..4,
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
            seed in any::<u64>(),
        ) {
            let d = data(kind, len, seed);
            let mut gz = gzip(&d, block, cut);
            let i = at.index(gz.len());
            match damage {
                1 => gz.truncate(i),
                2 => gz[i] ^= flip,
                3 => gz.extend_from_within(..i),
                _ => {}
            }
            let (one, _) = read(&gz, 1);
            if damage == 0 {
                prop_assert!(one.bytes == d && one.error.is_none(), "{:?}", one.error);
            }
            for workers in [2, 3] {
                let (other, _) = read(&gz, workers);
                prop_assert_eq!(other.bytes.len(), one.bytes.len(), "{:?} vs {:?}", other.error, one.error);
                prop_assert!(other.bytes == one.bytes);
                prop_assert_eq!(&other.error, &one.error);
                prop_assert_eq!(other.members, one.members);
            }
        }
    }
}
