//! A pickle opcode walker (protocols 0 to 5): it lists the globals a pickle imports (`GLOBAL`,
//! `INST`, `STACK_GLOBAL`) without executing anything, and checks the framing: every opcode
//! is known, every argument is inside the file, the stack never underflows, and `STOP` comes
//! before the end. Values are not built: for `STACK_GLOBAL` the walker keeps only the last
//! two pushed strings and the memoized strings, as picklescan does. Bounds: opcodes, MARK
//! nesting, stack size, memo entries and text-line length ([`PickleLimits`]).
//!
//! The import list ([`classify_import`]) has a deny list (picklescan's, 1.0.5: `os`, `posix`,
//! `subprocess`, `builtins.eval`, …), then a safe list (what PyTorch's `data.pkl`, numpy,
//! scikit-learn, XGBoost and joblib pickles import). Anything on neither is
//! [`ImportVerdict::Unknown`], and unsafe too: loading it imports and may call code no one
//! vetted.

mod lists;

use std::collections::{HashMap, HashSet};
use std::io::Read;

use super::src::Src;
use super::{FileReport, FormatError};

pub use lists::classify_import;

/// Bounds on what walking one file may cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PickleLimits {
    /// Opcodes walked, over all pickles in the file.
    pub max_ops: u64,
    /// MARK nesting.
    pub max_depth: usize,
    /// Items on the stack (counted, not stored).
    pub max_stack: u64,
    /// Memoized strings kept for `STACK_GLOBAL`.
    pub max_memo: usize,
    /// A protocol-0 text argument's length.
    pub max_line: u64,
    /// Pickles walked one after another in one file (a legacy `torch.save` writes five).
    pub max_pickles: usize,
}

impl Default for PickleLimits {
    fn default() -> Self {
        PickleLimits {
            max_ops: 1 << 32,
            max_depth: 100_000,
            max_stack: 10_000_000,
            max_memo: 1_000_000,
            max_line: 64 << 10,
            max_pickles: 16,
        }
    }
}

/// Is an import safe to load?
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImportVerdict {
    /// On the safe list.
    Safe,
    /// On the deny list: loading it can run commands or code (`os.system`, `builtins.eval`).
    Dangerous,
    /// On neither list, or a `STACK_GLOBAL` whose names the walker could not resolve.
    Unknown,
}

/// One global a pickle imports.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Import {
    /// The module (`posix`, `torch._utils`); `?` when not resolved.
    pub module: String,
    /// The name in it (`system`, `_rebuild_tensor_v2`); `?` when not resolved.
    pub name: String,
    /// Safe, dangerous or unknown.
    pub verdict: ImportVerdict,
}

/// The longest string kept for import names and memo entries.
const KEEP: usize = 256;
/// The most distinct imports recorded.
const MAX_IMPORTS: usize = 10_000;
/// The magic number a legacy (non-zip) `torch.save` pickles first.
const TORCH_LEGACY_MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/// Walks every pickle in `r` (`len` bytes) and lists their imports. The first pickle must be
/// whole; further pickles are walked while the next byte is `PROTO` (a legacy `torch.save`
/// writes five, then raw storage bytes, which are not read).
pub fn scan_pickle(r: impl Read, len: u64, lim: PickleLimits) -> Result<FileReport, FormatError> {
    check_with(&mut Src::new(r, len), lim)
}

/// A pickle file: the first pickle must be whole; further pickles (a legacy `torch.save`
/// writes five, then raw storage bytes) are walked while the next byte is `PROTO`.
pub(super) fn check_file<R: Read>(s: &mut Src<R>) -> Result<FileReport, FormatError> {
    check_with(s, PickleLimits::default())
}

fn check_with<R: Read>(s: &mut Src<R>, lim: PickleLimits) -> Result<FileReport, FormatError> {
    let mut w = Walker::new(lim);
    let mut report = FileReport::default();
    let first = w.walk(s);
    let legacy = w.legacy_magic;
    if let Err(e) = first {
        if w.joblib_inline() && !matches!(e, FormatError::Truncated { .. }) {
            // joblib writes arrays' raw bytes inside the pickle stream, after the
            // NumpyArrayWrapper's BUILD: the walker cannot step over them without numpy.
            report.unverified.push(format!(
                "joblib inline array data from byte {}: not walked",
                s.pos
            ));
            report.imports = w.imports;
            return Ok(report);
        }
        return Err(e);
    }
    let mut n = 1;
    while s.left() >= 2 && n < lim.max_pickles && !(legacy && n >= 5) {
        let mut b = [0u8; 1];
        match s.exact(&mut b, "the next pickle") {
            // A zip entry with a data descriptor has no known length: its end is the end.
            Err(FormatError::Truncated { .. }) if s.len == u64::MAX => break,
            r => r?,
        }
        if b[0] != 0x80 {
            break;
        }
        w.pending = Some(0x80);
        if let Err(e) = w.walk(s) {
            if legacy || matches!(e, FormatError::Truncated { .. }) {
                return Err(e);
            }
            break;
        }
        n += 1;
    }
    if s.left() > 0 {
        let what = if legacy {
            "legacy torch.save storage bytes"
        } else {
            "bytes after the last pickle"
        };
        report
            .unverified
            .push(format!("{} {what} from byte {}: not read", s.left(), s.pos));
    }
    report.imports = w.imports;
    Ok(report)
}

/// The walker's state across the pickles of one file.
pub(crate) struct Walker {
    lim: PickleLimits,
    ops: u64,
    /// Items above the innermost MARK.
    cur: u64,
    /// Items above each outer MARK.
    marks: Vec<u64>,
    total: u64,
    /// The last two pushed values, when strings.
    recent: [Option<String>; 2],
    memo: HashMap<u64, String>,
    memo_next: u64,
    imports: Vec<Import>,
    seen: HashSet<(String, String)>,
    /// An opcode byte already read (the next pickle's `PROTO`).
    pending: Option<u8>,
    /// The first pickle was a legacy `torch.save`'s magic number.
    legacy_magic: bool,
}

impl Walker {
    fn new(lim: PickleLimits) -> Self {
        Walker {
            lim,
            ops: 0,
            cur: 0,
            marks: Vec::new(),
            total: 0,
            recent: [None, None],
            memo: HashMap::new(),
            memo_next: 0,
            imports: Vec::new(),
            seen: HashSet::new(),
            pending: None,
            legacy_magic: false,
        }
    }

    fn joblib_inline(&self) -> bool {
        self.seen.iter().any(|(m, n)| {
            m.starts_with("joblib.numpy_pickle") && n == "NumpyArrayWrapper"
                || n == "NDArrayWrapper"
        })
    }

    fn import(&mut self, module: String, name: String) {
        if self.imports.len() >= MAX_IMPORTS || self.seen.contains(&(module.clone(), name.clone()))
        {
            return;
        }
        let verdict = if module == "?" || name == "?" {
            ImportVerdict::Unknown
        } else {
            classify_import(&module, &name)
        };
        self.seen.insert((module.clone(), name.clone()));
        self.imports.push(Import {
            module,
            name,
            verdict,
        });
    }

    fn push(&mut self, v: Option<String>) -> Result<(), FormatError> {
        self.recent[0] = self.recent[1].take();
        self.recent[1] = v;
        self.cur += 1;
        self.total += 1;
        if self.total > self.lim.max_stack {
            return Err(FormatError::Corrupt(format!(
                "the pickle stack grows past {} items, the walker's bound",
                self.lim.max_stack
            )));
        }
        Ok(())
    }

    /// Pops `n` items; a pickle that pops more than it pushed is corrupt.
    fn pop(&mut self, n: u64, op: u8, at: u64) -> Result<(), FormatError> {
        if self.cur < n {
            return Err(FormatError::Corrupt(format!(
                "pickle opcode 0x{op:02x} at byte {at} pops {n} item(s) from a stack that holds {}: the stream is damaged",
                self.cur
            )));
        }
        self.cur -= n;
        self.total -= n;
        self.recent = [None, None];
        Ok(())
    }

    fn mark(&mut self) -> Result<(), FormatError> {
        if self.marks.len() >= self.lim.max_depth {
            return Err(FormatError::Corrupt(format!(
                "the pickle nests MARKs deeper than {}, the walker's bound",
                self.lim.max_depth
            )));
        }
        self.marks.push(self.cur);
        self.cur = 0;
        self.recent = [None, None];
        Ok(())
    }

    /// Pops to the innermost MARK, then pushes `push` items.
    fn pop_mark(&mut self, op: u8, at: u64, push: u64) -> Result<(), FormatError> {
        let Some(below) = self.marks.pop() else {
            return Err(FormatError::Corrupt(format!(
                "pickle opcode 0x{op:02x} at byte {at} needs a MARK and there is none: the stream is damaged"
            )));
        };
        self.total -= self.cur;
        self.cur = below;
        self.recent = [None, None];
        for _ in 0..push {
            self.push(None)?;
        }
        Ok(())
    }

    /// Walks one pickle, from its first opcode to `STOP`.
    fn walk<R: Read>(&mut self, s: &mut Src<R>) -> Result<(), FormatError> {
        self.cur = 0;
        self.total = 0;
        self.marks.clear();
        self.recent = [None, None];
        self.memo.clear();
        self.memo_next = 0;
        loop {
            self.ops += 1;
            if self.ops > self.lim.max_ops {
                return Err(FormatError::Corrupt(format!(
                    "the pickle has more than {} opcodes, the walker's bound",
                    self.lim.max_ops
                )));
            }
            let at = s.pos;
            let op = match self.pending.take() {
                Some(op) => op,
                None => s.u8("the next pickle opcode (no STOP yet)")?,
            };
            if self.step(s, op, at)? {
                return Ok(());
            }
        }
    }
}

mod ops;
