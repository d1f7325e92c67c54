//! [`Src`]: a reader that knows how many bytes its input has, so that a length read from the
//! file is checked against what is left before anything is read or allocated.

use std::io::{self, Read};

use super::FormatError;

/// A bounded input: the reader, the position, and the length the input is said to have.
pub(crate) struct Src<R> {
    r: R,
    /// Bytes consumed so far.
    pub pos: u64,
    /// The input's length.
    pub len: u64,
}

impl<R: Read> Src<R> {
    /// A source of `len` bytes.
    pub fn new(r: R, len: u64) -> Self {
        Src { r, pos: 0, len }
    }

    /// Bytes left.
    pub fn left(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    /// The truncation error for `n` more bytes wanted for `what`.
    pub fn short(&self, n: u64, what: &str) -> FormatError {
        FormatError::Truncated {
            says: format!("{what} needs {n} byte(s) at byte {}", self.pos),
            found: format!("the file ends at byte {}", self.len),
        }
    }

    /// Fails with [`FormatError::Truncated`] unless `n` more bytes are there.
    pub fn need(&self, n: u64, what: &str) -> Result<(), FormatError> {
        if n > self.left() {
            Err(self.short(n, what))
        } else {
            Ok(())
        }
    }

    /// Fills `buf`, or fails as truncated.
    pub fn exact(&mut self, buf: &mut [u8], what: &str) -> Result<(), FormatError> {
        self.need(buf.len() as u64, what)?;
        match self.r.read_exact(buf) {
            Ok(()) => {
                self.pos += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                // The input is shorter than its stated length (a file that shrank).
                Err(self.short(buf.len() as u64, what))
            }
            Err(e) => Err(FormatError::Io(e)),
        }
    }

    /// One byte.
    pub fn u8(&mut self, what: &str) -> Result<u8, FormatError> {
        let mut b = [0u8; 1];
        self.exact(&mut b, what)?;
        Ok(b[0])
    }

    /// A little-endian u32.
    pub fn u32(&mut self, what: &str) -> Result<u32, FormatError> {
        let mut b = [0u8; 4];
        self.exact(&mut b, what)?;
        Ok(u32::from_le_bytes(b))
    }

    /// A little-endian u64.
    pub fn u64(&mut self, what: &str) -> Result<u64, FormatError> {
        let mut b = [0u8; 8];
        self.exact(&mut b, what)?;
        Ok(u64::from_le_bytes(b))
    }

    /// `n` bytes into memory: at most `cap` (more is [`FormatError::Corrupt`]).
    pub fn read_vec(&mut self, n: u64, cap: u64, what: &str) -> Result<Vec<u8>, FormatError> {
        self.need(n, what)?;
        if n > cap {
            return Err(FormatError::Corrupt(format!(
                "{what} claims {n} bytes at byte {}, more than the {cap}-byte bound",
                self.pos
            )));
        }
        let mut v = vec![0u8; n as usize];
        self.exact(&mut v, what)?;
        Ok(v)
    }

    /// Skips `n` bytes, passing each chunk to `each` (a CRC, a hash), in 64 KiB steps.
    pub fn skip_with(
        &mut self,
        n: u64,
        what: &str,
        mut each: impl FnMut(&[u8]),
    ) -> Result<(), FormatError> {
        self.need(n, what)?;
        let mut buf = [0u8; 64 * 1024];
        let mut left = n;
        while left > 0 {
            let k = left.min(buf.len() as u64) as usize;
            self.exact(&mut buf[..k], what)?;
            each(&buf[..k]);
            left -= k as u64;
        }
        Ok(())
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: u64, what: &str) -> Result<(), FormatError> {
        self.skip_with(n, what, |_| {})
    }

    /// The inner reader, limited to the next `n` bytes (after [`Src::need`]); the caller
    /// adds what it consumed to `pos` with [`Src::advanced`].
    pub fn inner(&mut self) -> &mut R {
        &mut self.r
    }

    /// Records `n` bytes consumed through [`Src::inner`].
    pub fn advanced(&mut self, n: u64) {
        self.pos += n;
    }
}

/// Reading through a [`Src`] never goes past its length and counts what it hands out.
impl<R: Read> Read for Src<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = (buf.len() as u64).min(self.left()) as usize;
        let n = self.r.read(&mut buf[..k])?;
        self.pos += n as u64;
        Ok(n)
    }
}
