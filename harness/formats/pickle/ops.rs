//! One pickle opcode: its argument, read bounded, and its effect on the counted stack.

use std::io::Read;

use super::{Walker, KEEP, TORCH_LEGACY_MAGIC};
use crate::formats::src::Src;
use crate::formats::FormatError;

/// How an opcode's argument is framed.
enum Arg {
    None,
    /// A fixed number of bytes.
    Fixed(u64),
    /// A length of 1, 4 or 8 bytes, then that many bytes.
    Counted(u8),
    /// One text line (protocol 0).
    Line,
    /// Two text lines (`GLOBAL`, `INST`).
    TwoLines,
}

/// The argument framing of `op`, or `None` for a byte that is no opcode.
fn arg(op: u8) -> Option<Arg> {
    Some(match op {
        b'(' | b'.' | b'0' | b'1' | b'2' | b'N' | 0x88 | 0x89 | b']' | b'a' | b'e' | b'l'
        | b')' | b't' | 0x85 | 0x86 | 0x87 | b'}' | b'd' | b's' | b'u' | 0x8f | 0x90 | 0x91
        | b'R' | b'b' | 0x81 | 0x92 | 0x93 | 0x94 | b'Q' | b'o' | 0x97 | 0x98 => Arg::None,
        b'K' | b'q' | b'h' | 0x80 | 0x82 => Arg::Fixed(1),
        b'M' | 0x83 => Arg::Fixed(2),
        b'J' | b'r' | b'j' | 0x84 => Arg::Fixed(4),
        b'G' | 0x95 => Arg::Fixed(8),
        0x8a | b'U' | 0x8c | b'C' => Arg::Counted(1),
        0x8b | b'T' | b'X' | b'B' => Arg::Counted(4),
        0x8d | 0x8e | 0x96 => Arg::Counted(8),
        b'I' | b'L' | b'F' | b'S' | b'V' | b'p' | b'g' | b'P' => Arg::Line,
        b'c' | b'i' => Arg::TwoLines,
        _ => return None,
    })
}

/// Reads a text line up to `\n` (not kept past [`KEEP`] bytes).
fn line<R: Read>(s: &mut Src<R>, max: u64) -> Result<String, FormatError> {
    let mut v = Vec::new();
    let start = s.pos;
    loop {
        let b = s.u8("a pickle text argument (no newline yet)")?;
        if b == b'\n' {
            break;
        }
        if s.pos - start > max {
            return Err(FormatError::Corrupt(format!(
                "a pickle text argument at byte {start} runs past {max} bytes without a newline"
            )));
        }
        if v.len() < KEEP {
            v.push(b);
        }
    }
    Ok(String::from_utf8_lossy(&v).into_owned())
}

/// A little-endian unsigned integer of up to 8 bytes.
fn le(b: &[u8]) -> u64 {
    b.iter()
        .rev()
        .fold(0u64, |acc, x| (acc << 8) | u64::from(*x))
}

impl Walker {
    /// Reads `op`'s argument and applies it. True at `STOP`.
    pub(super) fn step<R: Read>(
        &mut self,
        s: &mut Src<R>,
        op: u8,
        at: u64,
    ) -> Result<bool, FormatError> {
        let Some(kind) = arg(op) else {
            return Err(FormatError::Corrupt(format!(
                "byte 0x{op:02x} at {at} is not a pickle opcode: the stream is damaged"
            )));
        };
        let mut fixed = [0u8; 8];
        let mut text: Option<String> = None;
        let mut lines: Option<(String, String)> = None;
        match kind {
            Arg::None => {}
            Arg::Fixed(n) => s.exact(&mut fixed[..n as usize], "a pickle opcode's argument")?,
            Arg::Counted(w) => {
                let mut lb = [0u8; 8];
                s.exact(&mut lb[..w as usize], "a pickle length")?;
                let n = le(&lb[..w as usize]);
                let what = "the bytes a pickle length announces";
                s.need(n, what)?;
                let keep = n.min(KEEP as u64);
                let head = s.read_vec(keep, KEEP as u64, what)?;
                s.skip(n - keep, what)?;
                if op == 0x8a && head == TORCH_LEGACY_MAGIC && self.ops <= 3 {
                    self.legacy_magic = true;
                }
                if matches!(op, 0x8c | b'X' | 0x8d | b'U' | b'T') {
                    text = Some(String::from_utf8_lossy(&head).into_owned());
                }
            }
            Arg::Line => {
                let l = line(s, self.lim.max_line)?;
                if matches!(op, b'S' | b'V') {
                    text = Some(l.trim_matches(|c| c == '\'' || c == '"').to_string());
                } else {
                    text = Some(l);
                }
            }
            Arg::TwoLines => {
                let m = line(s, self.lim.max_line)?;
                let n = line(s, self.lim.max_line)?;
                lines = Some((m, n));
            }
        }
        self.apply(op, at, &fixed, text, lines)
    }

    /// The opcode's effect on the counted stack, the memo and the imports.
    fn apply(
        &mut self,
        op: u8,
        at: u64,
        fixed: &[u8; 8],
        text: Option<String>,
        lines: Option<(String, String)>,
    ) -> Result<bool, FormatError> {
        match op {
            b'.' => {
                self.pop(1, op, at)?;
                return Ok(true);
            }
            0x80 => {
                if fixed[0] > 5 {
                    return Err(FormatError::Corrupt(format!(
                        "pickle protocol {} at byte {at}: protocols 0 to 5 exist",
                        fixed[0]
                    )));
                }
            }
            0x95 => {}
            b'(' => self.mark()?,
            b'1' => self.pop_mark(op, at, 0)?,
            b'e' | b'u' | 0x90 => self.pop_mark(op, at, 0)?,
            b't' | b'l' | b'd' | b'o' | 0x91 => self.pop_mark(op, at, 1)?,
            b'i' => {
                if let Some((m, n)) = lines {
                    self.import(m, n);
                }
                self.pop_mark(op, at, 1)?;
            }
            b'c' => {
                if let Some((m, n)) = lines {
                    self.import(m, n);
                }
                self.push(None)?;
            }
            0x93 => {
                let [m, n] = std::mem::take(&mut self.recent);
                self.pop(2, op, at)?;
                self.import(
                    m.unwrap_or_else(|| "?".into()),
                    n.unwrap_or_else(|| "?".into()),
                );
                self.push(None)?;
            }
            b'0' => {
                if self.cur == 0 && !self.marks.is_empty() {
                    self.pop_mark(op, at, 0)?;
                } else {
                    self.pop(1, op, at)?;
                }
            }
            b'2' => {
                let top = self.recent[1].clone();
                self.push(top)?;
            }
            b'a' | b'b' | b'R' | 0x81 | b'Q' | 0x86 => {
                let (pops, pushes) = match op {
                    b'a' | b'b' => (1, 0),
                    b'R' | 0x81 | 0x86 => (2, 1),
                    _ => (1, 1),
                };
                self.pop(pops, op, at)?;
                for _ in 0..pushes {
                    self.push(None)?;
                }
            }
            b's' => self.pop(2, op, at)?,
            0x92 | 0x87 => {
                self.pop(3, op, at)?;
                self.push(None)?;
            }
            0x85 | 0x98 => {
                self.pop(1, op, at)?;
                self.push(None)?;
            }
            0x94 | b'q' | b'r' | b'p' => self.memoize(op, at, fixed, text.as_deref())?,
            b'h' | b'j' | b'g' => {
                let idx = match op {
                    b'h' => u64::from(fixed[0]),
                    b'j' => le(&fixed[..4]),
                    _ => text
                        .as_deref()
                        .unwrap_or("")
                        .trim()
                        .parse()
                        .unwrap_or(u64::MAX),
                };
                let v = self.memo.get(&idx).cloned();
                self.push(v)?;
            }
            _ => self.push(text)?,
        }
        Ok(false)
    }

    /// `MEMOIZE`, `PUT`, `BINPUT`, `LONG_BINPUT`: keeps the top string, bounded.
    fn memoize(
        &mut self,
        op: u8,
        at: u64,
        fixed: &[u8; 8],
        text: Option<&str>,
    ) -> Result<(), FormatError> {
        if self.cur == 0 {
            return Err(FormatError::Corrupt(format!(
                "pickle opcode 0x{op:02x} at byte {at} memoizes an empty stack: the stream is damaged"
            )));
        }
        let idx = match op {
            0x94 => {
                self.memo_next += 1;
                self.memo_next - 1
            }
            b'q' => u64::from(fixed[0]),
            b'r' => le(&fixed[..4]),
            _ => text.unwrap_or("").trim().parse().unwrap_or(u64::MAX),
        };
        if let Some(v) = self.recent[1].clone() {
            if self.memo.len() < self.lim.max_memo {
                self.memo.insert(idx, v);
            }
        }
        Ok(())
    }
}
