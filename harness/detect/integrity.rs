//! Reading model files for the integrity rules: from a model dir ([`scan_dir`]), or from an
//! archive's members as they stream by ([`IntegrityTap`], a [`DataTap`]), into [`Scans`],
//! which `rules::integrity` turns into findings. Each file is read once, through the bounded
//! readers of [`crate::formats`]; in an archive, a model member's bytes go through a bounded
//! channel (8 chunks) to a reader thread, so nothing is extracted and memory stays flat.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::tree::{NodeKind, Tree};
use crate::archive::DataTap;
use crate::formats::{self, FileReport, FormatError, Kind, ShardIndex};
use crate::layout::RawPath;

/// How many leading bytes decide a file's format.
const HEAD: usize = 4096;

/// What reading one file gave.
#[derive(Debug)]
pub(crate) enum Scanned {
    /// A model file, of this format.
    File(Kind, Result<FileReport, FormatError>),
    /// A sharded safetensors index.
    Index(Result<ShardIndex, FormatError>),
}

/// The model files read from a model dir or an archive, by path.
#[derive(Debug, Default)]
pub struct Scans {
    pub(crate) files: BTreeMap<RawPath, Scanned>,
}

/// True for a sharded safetensors index name.
fn is_index(name: &[u8]) -> bool {
    name.ends_with(b".safetensors.index.json")
}

/// Reads every regular, readable, non-empty file of `t` (the tree of `dir`) whose name or
/// first bytes say it is a model format. Never through a symlink, never blocking on a FIFO.
pub fn scan_dir(dir: &Path, t: &Tree) -> Scans {
    let mut out = Scans::default();
    for (p, n) in t.nodes.iter() {
        if n.kind != NodeKind::File || !n.readable || n.size == 0 {
            continue;
        }
        let Ok(f) = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(dir.join(p.as_path()))
        else {
            continue;
        };
        if !f.metadata().map(|m| m.is_file()).unwrap_or(false) {
            continue;
        }
        let mut r = io::BufReader::with_capacity(256 << 10, f);
        let mut head = Vec::with_capacity(HEAD);
        if (&mut r).take(HEAD as u64).read_to_end(&mut head).is_err() {
            continue;
        }
        let body = io::Cursor::new(head.clone()).chain(r);
        if let Some(s) = scan_one(p.file_name(), &head, body, n.size) {
            out.files.insert(p.clone(), s);
        }
    }
    out
}

/// Reads one file if its name or head says it is a model format.
fn scan_one(name: &[u8], head: &[u8], body: impl Read, len: u64) -> Option<Scanned> {
    if is_index(name) {
        return Some(Scanned::Index(formats::read_index(body, len)));
    }
    let kind = Kind::guess(name, head)?;
    Some(Scanned::File(kind, formats::check(kind, body, len)))
}

/// A [`Read`] over chunks sent through a channel; the sender's drop is the end.
struct ChanReader {
    rx: Receiver<Vec<u8>>,
    buf: Vec<u8>,
    at: usize,
}

impl Read for ChanReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.buf.len() {
            match self.rx.recv() {
                Ok(v) => {
                    self.buf = v;
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The member being read.
struct Current {
    path: RawPath,
    size: u64,
    head: Vec<u8>,
    seen: u64,
    tx: Option<SyncSender<Vec<u8>>>,
    worker: Option<JoinHandle<Option<Scanned>>>,
}

/// Shows model members of an archive to the format readers as the archive streams by
/// ([`crate::archive::Manifest::read_tapped`]); [`IntegrityTap::finish`] gives the
/// [`Scans`].
#[derive(Default)]
pub struct IntegrityTap {
    cur: Option<Current>,
    scans: Scans,
}

impl IntegrityTap {
    /// A tap with nothing read yet.
    pub fn new() -> Self {
        IntegrityTap::default()
    }

    /// What was read. A member cut short by a damaged archive is left out: the archive's own
    /// finding covers it.
    pub fn finish(mut self) -> Scans {
        if let Some(c) = self.cur.take() {
            drop(c.tx);
            if let Some(w) = c.worker {
                let _ = w.join();
            }
        }
        self.scans
    }

    /// Decides from the head whether to read the member, and starts its reader thread.
    fn decide(&mut self) -> bool {
        let Some(c) = self.cur.as_mut() else {
            return false;
        };
        let name = c.path.file_name().to_vec();
        let wanted = is_index(&name) || Kind::guess(&name, &c.head).is_some();
        if !wanted {
            self.cur = None;
            return false;
        }
        let (tx, rx) = sync_channel::<Vec<u8>>(8);
        let (head, size) = (std::mem::take(&mut c.head), c.size);
        let first = head.clone();
        c.worker = Some(std::thread::spawn(move || {
            let r = ChanReader {
                rx,
                buf: Vec::new(),
                at: 0,
            };
            scan_one(&name, &first, r, size)
        }));
        let ok = tx.send(head).is_ok();
        c.tx = ok.then_some(tx);
        true
    }
}

impl DataTap for IntegrityTap {
    fn start(&mut self, path: &RawPath, size: u64) -> bool {
        self.cur = None;
        if size == 0 {
            return false;
        }
        self.cur = Some(Current {
            path: path.clone(),
            size,
            head: Vec::new(),
            seen: 0,
            tx: None,
            worker: None,
        });
        true
    }

    fn data(&mut self, chunk: &[u8]) -> bool {
        let Some(c) = self.cur.as_mut() else {
            return false;
        };
        c.seen += chunk.len() as u64;
        if c.worker.is_none() {
            let take = (HEAD - c.head.len()).min(chunk.len());
            c.head.extend_from_slice(&chunk[..take]);
            let rest = chunk[take..].to_vec();
            if c.head.len() < HEAD && c.seen < c.size {
                return true;
            }
            if !self.decide() {
                return false;
            }
            return self.send(rest);
        }
        self.send(chunk.to_vec())
    }

    fn end(&mut self) {
        let Some(c) = self.cur.as_ref() else { return };
        if c.worker.is_none() && !self.decide() {
            return;
        }
        if let Some(mut c) = self.cur.take() {
            drop(c.tx.take());
            if let Some(Ok(Some(s))) = c.worker.take().map(|w| w.join()) {
                self.scans.files.insert(c.path, s);
            }
        }
    }
}

impl IntegrityTap {
    /// Passes bytes to the reader thread (a reader that stopped early takes no more).
    fn send(&mut self, v: Vec<u8>) -> bool {
        if let Some(c) = self.cur.as_mut() {
            if v.is_empty() {
                return true;
            }
            if let Some(tx) = &c.tx {
                if tx.send(v).is_err() {
                    c.tx = None;
                }
            }
        }
        true
    }
}
