//! An XGBoost UBJSON model (`booster.save_model("model.ubj")`, XGBoost's default binary format
//! since 2.1): the document walks whole and holds a top-level `learner`.
//!
//! UBJSON (draft 12, as XGBoost writes it): a value is a one-byte type marker and its payload.
//! `Z` null, `N` no-op, `T`/`F` booleans; `i` int8, `U` uint8, `I` int16, `l` int32, `L` int64,
//! `d` float32, `D` float64 (big-endian), `C` one char; `S` a string and `H` a high-precision
//! number, each a length (an integer value) and that many bytes; `[` an array and `{` an object
//! (keys are a length and bytes, with no `S`), either ended by `]`/`}`, or optimized: `$` and one
//! type marker for every element, then `#` and a count, with no end marker. XGBoost writes its
//! float and integer arrays as `[$d#L<count>` then raw values, so a model is mostly a few big
//! typed arrays: they are skipped by length, never read into memory.
//!
//! Bounds: nesting at most [`MAX_DEPTH`] (an XGBoost model nests about 10 deep); a length or
//! count is checked against the bytes left before anything is skipped, so a claim past the end
//! is [`FormatError::Truncated`] and a negative one is [`FormatError::Corrupt`].

use std::io::Read;

use super::src::Src;
use super::{FileReport, FormatError};

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 256;

/// Checks a UBJSON document with a top-level `learner` key.
pub(super) fn check_xgboost_ubj<R: Read>(s: &mut Src<R>) -> Result<FileReport, FormatError> {
    let first = s.u8("the top-level object")?;
    if first != b'{' {
        return Err(FormatError::Corrupt(format!(
            "the UBJSON model starts with {:?}, not an object `{{`",
            first as char
        )));
    }
    let mut walker = Walker { s, learner: false };
    walker.walk()?;
    if !walker.learner {
        return Err(FormatError::Corrupt(
            "the UBJSON document has no top-level `learner`: XGBoost cannot load it".into(),
        ));
    }
    Ok(FileReport::default())
}

struct Walker<'a, R> {
    s: &'a mut Src<R>,
    learner: bool,
}

/// The payload size of a fixed-size type, or `None` for the others.
fn fixed_size(marker: u8) -> Option<u64> {
    match marker {
        b'Z' | b'N' | b'T' | b'F' => Some(0),
        b'i' | b'U' | b'C' => Some(1),
        b'I' => Some(2),
        b'l' | b'd' => Some(4),
        b'L' | b'D' => Some(8),
        _ => None,
    }
}

impl<R: Read> Walker<'_, R> {
    /// An integer payload of type `marker`.
    fn int(&mut self, marker: u8, what: &str) -> Result<i64, FormatError> {
        let size = match marker {
            b'i' | b'U' => 1,
            b'I' => 2,
            b'l' => 4,
            b'L' => 8,
            m => {
                return Err(FormatError::Corrupt(format!(
                    "{what} at byte {} has type {:?}, not an integer",
                    self.s.pos, m as char
                )))
            }
        };
        let mut b = [0u8; 8];
        self.s.exact(&mut b[8 - size..], what)?;
        let v = match marker {
            b'i' => b[7] as i8 as i64,
            b'U' => b[7] as i64,
            b'I' => i16::from_be_bytes([b[6], b[7]]) as i64,
            b'l' => i32::from_be_bytes([b[4], b[5], b[6], b[7]]) as i64,
            _ => i64::from_be_bytes(b),
        };
        Ok(v)
    }

    /// A length or count: an integer value, not negative.
    fn length(&mut self, marker: u8, what: &str) -> Result<u64, FormatError> {
        let at = self.s.pos;
        let n = self.int(marker, what)?;
        u64::try_from(n)
            .map_err(|_| FormatError::Corrupt(format!("{what} at byte {at} is negative ({n})")))
    }

    /// Skips `count` values of fixed size `size`, or fails as truncated.
    fn skip_fixed(&mut self, count: u64, size: u64, what: &str) -> Result<(), FormatError> {
        let bytes = count.checked_mul(size).ok_or_else(|| {
            FormatError::Corrupt(format!(
                "{what} at byte {} claims {count} elements of {size} bytes",
                self.s.pos
            ))
        })?;
        self.s.skip(bytes, what)
    }

    /// One value whose marker has been read: skipped, or, for an array or object, its frame
    /// pushed on `stack` (the walk is iterative, so nesting costs heap, not stack).
    fn value(&mut self, marker: u8, stack: &mut Vec<Frame>) -> Result<(), FormatError> {
        if let Some(size) = fixed_size(marker) {
            return self.s.skip(size, "a number");
        }
        match marker {
            b'S' | b'H' => {
                let m = self.s.u8("a string's length")?;
                let n = self.length(m, "a string's length")?;
                self.s.skip(n, "a string")
            }
            b'[' => self.open(false, stack),
            b'{' => self.open(true, stack),
            m => Err(FormatError::Corrupt(format!(
                "unknown UBJSON type marker {:?} at byte {}",
                m as char,
                self.s.pos - 1
            ))),
        }
    }

    /// An object key (its length marker read as `marker`); at the top level, notes `learner`.
    fn key(&mut self, marker: u8, top: bool) -> Result<(), FormatError> {
        let n = self.length(marker, "an object key's length")?;
        if top && n == b"learner".len() as u64 {
            let mut k = [0u8; 7];
            self.s.exact(&mut k, "an object key")?;
            self.learner |= &k == b"learner";
            Ok(())
        } else {
            self.s.skip(n, "an object key")
        }
    }

    /// An array or object whose opening marker has been read: reads its optimized header
    /// (`$` type, `#` count) if any and pushes its frame. A typed array of fixed-size
    /// elements is skipped by length at once.
    fn open(&mut self, object: bool, stack: &mut Vec<Frame>) -> Result<(), FormatError> {
        if stack.len() >= MAX_DEPTH {
            return Err(FormatError::Corrupt(format!(
                "the UBJSON document nests deeper than {MAX_DEPTH} at byte {}",
                self.s.pos
            )));
        }
        let what = if object { "an object" } else { "an array" };
        let m = self.s.u8(what)?;
        if m != b'$' && m != b'#' {
            stack.push(Frame::Open {
                object,
                pending: Some(m),
            });
            return Ok(());
        }
        let mut typed = None;
        let mut m = m;
        if m == b'$' {
            typed = Some(self.s.u8("a typed container's element type")?);
            m = self.s.u8("a typed container's count")?;
            if m != b'#' {
                return Err(FormatError::Corrupt(format!(
                    "a typed {what} at byte {} has no `#` count",
                    self.s.pos - 1
                )));
            }
        }
        let cm = self.s.u8("a container's count")?;
        let count = self.length(cm, "a container's count")?;
        if let (false, Some(size)) = (object, typed.and_then(fixed_size)) {
            return self.skip_fixed(count, size, "a typed array");
        }
        // Every element takes at least one byte: a count past the bytes left is a cut.
        self.s.need(
            count.min(self.s.left().saturating_add(1)),
            "a container's elements",
        )?;
        stack.push(Frame::Counted {
            object,
            typed,
            left: count,
        });
        Ok(())
    }

    /// Walks the top-level object (its `{` read) to its end.
    fn walk(&mut self) -> Result<(), FormatError> {
        let mut stack = Vec::new();
        self.open(true, &mut stack)?;
        loop {
            let top = stack.len() == 1;
            let Some(frame) = stack.last_mut() else {
                break;
            };
            match frame {
                Frame::Counted { left: 0, .. } => {
                    stack.pop();
                }
                Frame::Counted {
                    object,
                    typed,
                    left,
                } => {
                    *left -= 1;
                    let (object, typed) = (*object, *typed);
                    if object {
                        let km = self.s.u8("an object key's length")?;
                        self.key(km, top)?;
                    }
                    let m = match typed {
                        Some(t) => t,
                        None => self.s.u8("a container element")?,
                    };
                    self.value(m, &mut stack)?;
                }
                Frame::Open { object, pending } => {
                    let object = *object;
                    let m = match pending.take() {
                        Some(m) => m,
                        None => self.s.u8(if object { "an object" } else { "an array" })?,
                    };
                    if m == if object { b'}' } else { b']' } {
                        stack.pop();
                    } else if m == b'N' {
                    } else if object {
                        self.key(m, top)?;
                        let v = self.s.u8("an object value")?;
                        self.value(v, &mut stack)?;
                    } else {
                        self.value(m, &mut stack)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// An array or object being walked.
enum Frame {
    /// Ended by `]` or `}`; `pending` is a marker already read.
    Open { object: bool, pending: Option<u8> },
    /// Optimized: `left` elements to go, each of type `typed` or marked.
    Counted {
        object: bool,
        typed: Option<u8>,
        left: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(doc: &[u8]) -> Result<FileReport, FormatError> {
        check_xgboost_ubj(&mut Src::new(doc, doc.len() as u64))
    }

    /// `{"learner": {"w": [$d#i 3 floats], "n": "ab"}, "version": [i 2, i 1]}` as XGBoost lays it out.
    fn model() -> Vec<u8> {
        let mut v = b"{i\x07learner{i\x01w[$d#i\x03".to_vec();
        v.extend_from_slice(&[0u8; 12]);
        v.extend_from_slice(b"i\x01nSi\x02ab}i\x07version[i\x02i\x01]}");
        v
    }

    #[test]
    fn a_whole_model_reads_and_every_cut_is_truncated() {
        let m = model();
        assert!(run(&m).is_ok(), "{:?}", run(&m));
        for cut in 0..m.len() {
            match run(&m[..cut]) {
                Err(FormatError::Truncated { .. }) => {}
                other => panic!("cut at {cut} of {}: {other:?}", m.len()),
            }
        }
    }

    #[test]
    fn no_learner_bad_markers_and_negative_lengths_are_corrupt() {
        let no_learner = b"{i\x07version[i\x02]}";
        assert!(matches!(run(no_learner), Err(FormatError::Corrupt(_))));
        let nested_learner = b"{i\x01a{i\x07learnerZ}}";
        assert!(run(b"{i\x07learnerZ}").is_ok());
        assert!(matches!(run(nested_learner), Err(FormatError::Corrupt(_))));
        assert!(matches!(
            run(b"{i\x07learnerQ}"),
            Err(FormatError::Corrupt(_))
        ));
        assert!(matches!(
            run(b"{i\x07learnerSi\xffab}"),
            Err(FormatError::Corrupt(_))
        ));
        assert!(matches!(run(b"[]"), Err(FormatError::Corrupt(_))));
    }

    #[test]
    fn huge_claims_and_deep_nesting_are_bounded() {
        // A typed array claiming 2^62 float64s: refused by length, nothing allocated.
        let huge = b"{i\x07learner[$D#L\x40\x00\x00\x00\x00\x00\x00\x00}";
        assert!(matches!(
            run(huge),
            Err(FormatError::Corrupt(_) | FormatError::Truncated { .. })
        ));
        // A counted object of a billion elements in a few bytes: a cut, found before looping.
        let many = b"{i\x07learner{#l\x3b\x9a\xca\x00}";
        assert!(matches!(run(many), Err(FormatError::Truncated { .. })));
        let mut deep = b"{i\x07learner".to_vec();
        deep.extend(std::iter::repeat_n(b'[', 100_000));
        assert!(matches!(run(&deep), Err(FormatError::Corrupt(_))));
    }
}
