//! Reading the output archive (never extracting) and its framing: `valid-gzip` and `valid-tar`,
//! plus the unpacked-size guard that stops a read taking bytes from outside the sandbox.

use std::fs;
use std::path::Path;

use super::property::{v, Property, Violation};
use crate::archive::{ArchiveError, Compression, Limits, Manifest};
use crate::layout::{Digest, Node};

/// File bytes in the whole sandbox.
pub(super) fn sandbox_bytes(d: &Digest) -> u64 {
    d.nodes
        .values()
        .map(|n| match n {
            Node::File { size, .. } => *size,
            _ => 0,
        })
        .fold(0, u64::saturating_add)
}

/// How much a packager's archive may unpack to before reading stops: twice everything the
/// sandbox holds, 4 KiB of headers per path, and 256 MiB of slack. Even a packager that packs
/// the wrong directory stays under it and gets a precise diff; past it the data can only come
/// from outside the sandbox (a followed link to `/dev/zero`) or a bomb.
fn unpacked_limit(d: &Digest) -> u64 {
    sandbox_bytes(d)
        .saturating_mul(2)
        .saturating_add((d.nodes.len() as u64).saturating_mul(4096))
        .saturating_add(256 << 20)
}

/// Reads the output leniently: the manifest and the first defect. `None` (with the violation
/// pushed) when it cannot be opened or unpacks past the limit: then there is nothing to judge.
pub(super) fn read_output(
    output: &Path,
    before: &Digest,
    out: &mut Vec<Violation>,
) -> Option<(Manifest, Option<ArchiveError>)> {
    let limit = unpacked_limit(before);
    let (manifest, err) = match fs::File::open(output) {
        Ok(f) => Manifest::read_lenient(
            f,
            Limits {
                max_unpacked: Some(limit),
                ..Limits::default()
            },
        ),
        Err(e) => {
            out.push(v(
                Property::ExitAndOutput,
                None,
                "a readable archive",
                format!("cannot open it: {e}"),
            ));
            return None;
        }
    };
    if let Some(ArchiveError::UnpackedLimit { .. }) = &err {
        // Not damage: the archive holds far more than the sandbox could supply, so it took
        // data from outside (a symlink to /dev/zero, a system dir) or invented it. Reading
        // on would only burn time; what was read is not a manifest to judge.
        out.push(v(
            Property::Fidelity,
            None,
            format!(
                "about the model dir's bytes (the whole sandbox holds {} bytes of files)",
                sandbox_bytes(before)
            ),
            format!("more than {limit} bytes unpacked; reading stopped there"),
        ));
        return None;
    }
    Some((manifest, err))
}

/// `valid-gzip` and `valid-tar`: a gzip stream, and no framing defect (reported under the
/// layer it belongs to; a gzip defect of a plain tar is already the missing gzip).
pub(super) fn check_framing(m: &Manifest, err: Option<&ArchiveError>, out: &mut Vec<Violation>) {
    if m.compression != Compression::Gzip {
        out.push(v(
            Property::ValidGzip,
            None,
            "a gzip stream",
            "a plain tar or something else (no gzip magic)",
        ));
    }
    if let Some(e) = err {
        let prop = if e.is_gzip_layer() {
            Property::ValidGzip
        } else {
            Property::ValidTar
        };
        if !(prop == Property::ValidGzip && m.compression != Compression::Gzip) {
            out.push(v(
                prop,
                None,
                "an intact archive",
                format!("{} ({})", e, e.class()),
            ));
        }
    }
}
