//! The second pass of [`super::diff_archives`]: where two members' contents first differ.
//!
//! Both archives are read again at once, each on its own thread by the bounded reader of
//! [`crate::archive`]. The reader copies each wanted member's data into a pipe (its data
//! sink); this thread reads the two pipes in lockstep, 64 KiB at a time, notes the first
//! differing byte, and drains the rest. Memory is a few buffers whatever the sizes; a pair
//! whose members come in another relative order in B than in A is skipped, because reading
//! it would need one archive to be buffered.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use crate::archive::{open_archive, Limits, Manifest};

/// For each `(index in A, index in B)` pair of regular members, the offset of the first
/// differing byte, or `None` when it could not be located (an out-of-order pair, a read
/// error).
pub(super) fn first_differences(
    a: &Path,
    b: &Path,
    pairs: &[(u64, u64)],
    limits: Limits,
) -> Vec<Option<u64>> {
    let mut out = vec![None; pairs.len()];
    // The pairs that can be streamed together: increasing in both archives.
    let mut chosen: Vec<usize> = Vec::new();
    let mut last_b = None;
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_by_key(|&i| pairs[i].0);
    for i in order {
        if last_b.is_none_or(|l| pairs[i].1 > l) {
            chosen.push(i);
            last_b = Some(pairs[i].1);
        }
    }
    let want_a: HashSet<u64> = chosen.iter().map(|&i| pairs[i].0).collect();
    let want_b: HashSet<u64> = chosen.iter().map(|&i| pairs[i].1).collect();
    std::thread::scope(|s| {
        let (tx_a, rx_a) = sync_channel::<File>(1);
        let (tx_b, rx_b) = sync_channel::<File>(1);
        s.spawn(move || stream(a, &want_a, tx_a, limits));
        s.spawn(move || stream(b, &want_b, tx_b, limits));
        compare_all(&chosen, &rx_a, &rx_b, &mut out);
        // Dropping the receivers (and the pipes) makes both readers stop early.
        drop(rx_a);
        drop(rx_b);
    });
    out
}

/// Compares the chosen pairs' pipes as the two readers hand them over.
fn compare_all(
    chosen: &[usize],
    rx_a: &Receiver<File>,
    rx_b: &Receiver<File>,
    out: &mut [Option<u64>],
) {
    for &i in chosen {
        let (Ok(mut pa), Ok(mut pb)) = (rx_a.recv(), rx_b.recv()) else {
            return;
        };
        out[i] = compare_streams(&mut pa, &mut pb).ok().flatten();
    }
}

/// Reads `path` to its end, copying the data of the members in `want` into a fresh pipe each,
/// whose read end goes to `tx`.
fn stream(path: &Path, want: &HashSet<u64>, tx: SyncSender<File>, limits: Limits) {
    let Ok(f) = open_archive(path) else { return };
    let mut sink = |index: u64| -> io::Result<Option<File>> {
        if !want.contains(&index) {
            return Ok(None);
        }
        let (r, w) = pipe()?;
        tx.send(r)
            .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
        Ok(Some(w))
    };
    let _ = Manifest::read_into(f, limits, Some(&mut sink));
}

/// A pipe, as (read end, write end), both close-on-exec.
fn pipe() -> io::Result<(File, File)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nothing else.
    Ok(unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) })
}

/// Fills `buf` as far as `r` allows; the count read (less than `buf.len()` only at the end).
fn fill(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The offset of the first byte where `a` and `b` differ (the shorter length when one is a
/// prefix of the other), or `None` when they are equal; both are read to their ends.
pub(super) fn compare_streams(a: &mut impl Read, b: &mut impl Read) -> io::Result<Option<u64>> {
    let mut ba = vec![0u8; 64 * 1024];
    let mut bb = vec![0u8; 64 * 1024];
    let mut offset = 0u64;
    let mut found = None;
    loop {
        let na = fill(a, &mut ba)?;
        let nb = fill(b, &mut bb)?;
        if found.is_none() {
            let n = na.min(nb);
            if let Some(p) = ba[..n].iter().zip(&bb[..n]).position(|(x, y)| x != y) {
                found = Some(offset + p as u64);
            } else if na != nb {
                found = Some(offset + n as u64);
            }
        }
        offset += na.max(nb) as u64;
        if na == 0 && nb == 0 {
            return Ok(found);
        }
        if found.is_some() {
            // Drain both so that the readers finish the member.
            io::copy(a, &mut io::sink())?;
            io::copy(b, &mut io::sink())?;
            return Ok(found);
        }
    }
}
