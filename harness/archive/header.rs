//! Decoding one 512-byte tar header: its checksum, numeric fields (octal or GNU base-256),
//! pax records and GNU long names, and the member name, type and attributes they give.

use std::collections::BTreeMap;

use super::error::ArchiveError;
use super::member::{HeaderForm, MemberKind};

/// The tar block size.
pub(super) const BLOCK: usize = 512;

/// The unsigned header checksum: the sum of all bytes, the checksum field read as spaces.
pub(crate) fn header_checksum(hdr: &[u8]) -> u64 {
    hdr.iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(*b)
            }
        })
        .sum()
}

/// The largest numeric value accepted anywhere (sizes and times are signed 64-bit).
const MAX_VALUE: u64 = i64::MAX as u64;

/// Parses a numeric header field: octal text, or GNU base-256 when the high bit is set.
pub(super) fn parse_number(
    field: &[u8],
    name: &'static str,
    offset: u64,
) -> Result<u64, ArchiveError> {
    let bad = |reason: String| ArchiveError::BadNumber {
        offset,
        field: name,
        reason,
    };
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        if field[0] == 0xff {
            return Err(bad("negative base-256 value".into()));
        }
        // Sizes and times are signed 64-bit (off_t, time_t); a larger value cannot be real, and
        // padding a size near 2^64 to a block boundary would overflow.
        let too_big = || bad("base-256 value over 2^63-1".into());
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(b)))
                .filter(|v| *v <= MAX_VALUE)
                .ok_or_else(too_big)?;
        }
        return Ok(v);
    }
    let text: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| *b != 0 && *b != b' ')
        .collect();
    if text.is_empty() {
        return Ok(0);
    }
    let s = std::str::from_utf8(&text).map_err(|_| bad("not ASCII octal".into()))?;
    u64::from_str_radix(s, 8).map_err(|_| bad(format!("`{s}` is not octal")))
}

pub(super) fn cstr(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    &field[..end]
}

/// Pending extended attributes for the next real header.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) pax: BTreeMap<String, Vec<u8>>,
    pub(super) long_name: Option<Vec<u8>>,
    pub(super) long_link: Option<Vec<u8>>,
}

/// Parses pax records `"<len> <key>=<value>\n"`.
pub(super) fn parse_pax(
    data: &[u8],
    offset: u64,
) -> Result<BTreeMap<String, Vec<u8>>, ArchiveError> {
    let mut out = BTreeMap::new();
    let mut rest = data;
    let bad = |reason: &str| ArchiveError::PaxRecord {
        offset,
        reason: reason.to_owned(),
    };
    while !rest.is_empty() {
        if rest.iter().all(|b| *b == 0) {
            break;
        }
        let sp = rest
            .iter()
            .position(|b| *b == b' ')
            .ok_or_else(|| bad("a record has no length"))?;
        let len: usize = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("a record length is not a decimal number"))?;
        if len <= sp + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(bad("a record length does not match its text"));
        }
        let rec = &rest[sp + 1..len - 1];
        let eq = rec
            .iter()
            .position(|b| *b == b'=')
            .ok_or_else(|| bad("a record has no `=`"))?;
        let key = String::from_utf8_lossy(&rec[..eq]).into_owned();
        out.insert(key, rec[eq + 1..].to_vec());
        rest = &rest[len..];
    }
    Ok(out)
}

pub(super) fn pax_u64(
    pax: &BTreeMap<String, Vec<u8>>,
    key: &'static str,
    offset: u64,
) -> Result<Option<u64>, ArchiveError> {
    match pax.get(key) {
        None => Ok(None),
        Some(v) => std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|v| *v <= MAX_VALUE)
            .map(Some)
            .ok_or_else(|| ArchiveError::PaxRecord {
                offset,
                reason: format!(
                    "`{key}={}` is not an integer from 0 to 2^63-1",
                    String::from_utf8_lossy(v)
                ),
            }),
    }
}

/// Verifies a header's checksum: the sum of all bytes with the checksum field read as spaces,
/// unsigned or (as some old tars wrote it) signed. A checksum field that is not a number means
/// "not a tar header" just as a wrong sum does (a nested gzip, random bytes), so it is a
/// checksum error too.
pub(super) fn verify_checksum(hdr: &[u8; BLOCK], header_offset: u64) -> Result<(), ArchiveError> {
    let stored = parse_number(&hdr[148..156], "chksum", header_offset).ok();
    let unsigned = header_checksum(hdr);
    let signed: i64 = hdr
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                i64::from(*b as i8)
            }
        })
        .sum();
    if stored != Some(unsigned) && stored.map(|s| s as i64) != Some(signed) {
        return Err(ArchiveError::HeaderChecksum {
            offset: header_offset,
            expected: stored,
            found: unsigned,
        });
    }
    Ok(())
}

/// The header form its magic says.
pub(super) fn header_form(hdr: &[u8; BLOCK]) -> HeaderForm {
    let magic = &hdr[257..265];
    if magic == b"ustar  \0" {
        HeaderForm::Gnu
    } else if &magic[..6] == b"ustar\0" {
        HeaderForm::Ustar
    } else {
        HeaderForm::V7
    }
}

/// A member's name and link target after pax and GNU long names, and the form that gave them.
pub(super) struct Names {
    pub(super) name: Vec<u8>,
    pub(super) link: Vec<u8>,
    pub(super) form: HeaderForm,
}

/// Resolves the name (with the ustar prefix) and link target, letting GNU long names and then
/// pax records override them.
pub(super) fn resolve_names(
    hdr: &[u8; BLOCK],
    form: HeaderForm,
    pending: &mut Pending,
    pax: &BTreeMap<String, Vec<u8>>,
) -> Names {
    let mut name = cstr(&hdr[0..100]).to_vec();
    if form == HeaderForm::Ustar {
        let prefix = cstr(&hdr[345..500]);
        if !prefix.is_empty() {
            let mut full = prefix.to_vec();
            full.push(b'/');
            full.extend_from_slice(&name);
            name = full;
        }
    }
    let mut link = cstr(&hdr[157..257]).to_vec();
    let mut used_form = form;
    if let Some(n) = pending.long_name.take() {
        name = n;
        used_form = HeaderForm::GnuLongName;
    }
    if let Some(l) = pending.long_link.take() {
        link = l;
        used_form = HeaderForm::GnuLongName;
    }
    if let Some(p) = pax.get("path") {
        name = p.clone();
        used_form = HeaderForm::Pax;
    }
    if let Some(l) = pax.get("linkpath") {
        link = l.clone();
        used_form = HeaderForm::Pax;
    }
    if !pax.is_empty() {
        used_form = HeaderForm::Pax;
    }
    Names {
        name,
        link,
        form: used_form,
    }
}

/// A member's numeric attributes, the header's values overridden by pax records.
pub(super) struct Attrs {
    pub(super) size: u64,
    pub(super) uid: u64,
    pub(super) gid: u64,
    pub(super) mode: u32,
    pub(super) mtime: i64,
}

impl Attrs {
    /// Reads them in the order the header's fields are checked (size, uid, gid, mode, mtime).
    pub(super) fn read(
        hdr: &[u8; BLOCK],
        header_offset: u64,
        size: u64,
        pax: &BTreeMap<String, Vec<u8>>,
    ) -> Result<Attrs, ArchiveError> {
        let size = pax_u64(pax, "size", header_offset)?.unwrap_or(size);
        let mut uid = parse_number(&hdr[108..116], "uid", header_offset)?;
        let mut gid = parse_number(&hdr[116..124], "gid", header_offset)?;
        if let Some(v) = pax_u64(pax, "uid", header_offset)? {
            uid = v;
        }
        if let Some(v) = pax_u64(pax, "gid", header_offset)? {
            gid = v;
        }
        let mode = parse_number(&hdr[100..108], "mode", header_offset)? as u32;
        let mut mtime = parse_number(&hdr[136..148], "mtime", header_offset)? as i64;
        if let Some(v) = pax.get("mtime") {
            let s = String::from_utf8_lossy(v);
            mtime = s
                .split('.')
                .next()
                .and_then(|i| i.parse::<i64>().ok())
                .ok_or_else(|| ArchiveError::PaxRecord {
                    offset: header_offset,
                    reason: format!("`mtime={s}` is not a number"),
                })?;
        }
        Ok(Attrs {
            size,
            uid,
            gid,
            mode,
            mtime,
        })
    }
}

/// The member type its type flag says; v7 tar marks directories with a trailing slash on a
/// regular type.
pub(super) fn member_kind(typeflag: u8, name: &[u8]) -> MemberKind {
    let kind = match typeflag {
        b'0' | 0 | b'7' => MemberKind::File,
        b'1' => MemberKind::Hardlink,
        b'2' => MemberKind::Symlink,
        b'3' => MemberKind::CharDevice,
        b'4' => MemberKind::BlockDevice,
        b'5' => MemberKind::Dir,
        b'6' => MemberKind::Fifo,
        other => MemberKind::Other(other),
    };
    if kind == MemberKind::File && name.ends_with(b"/") {
        MemberKind::Dir
    } else {
        kind
    }
}

/// Device major and minor numbers, for character and block devices.
pub(super) fn device_numbers(
    hdr: &[u8; BLOCK],
    kind: MemberKind,
    header_offset: u64,
) -> Option<(u32, u32)> {
    match kind {
        MemberKind::CharDevice | MemberKind::BlockDevice => {
            let n = |r: std::ops::Range<usize>| {
                parse_number(&hdr[r], "devmajor", header_offset)
                    .ok()
                    .and_then(|v| u32::try_from(v).ok())
            };
            n(329..337).zip(n(337..345))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_octal_and_base256_and_reject_negatives() {
        assert_eq!(parse_number(b"0000644\0", "mode", 0).unwrap(), 0o644);
        assert_eq!(parse_number(b"   17 \0", "mode", 0).unwrap(), 0o17);
        let mut big = [0u8; 12];
        big[0] = 0x80;
        big[11] = 5;
        big[10] = 1;
        assert_eq!(parse_number(&big, "size", 0).unwrap(), 261);
        let mut neg = [0xffu8; 12];
        neg[11] = 0xfe;
        assert!(matches!(
            parse_number(&neg, "size", 0),
            Err(ArchiveError::BadNumber { .. })
        ));
        assert!(matches!(
            parse_number(b"12x4", "size", 0),
            Err(ArchiveError::BadNumber { .. })
        ));
    }

    #[test]
    fn pax_records_parse_and_reject_lies() {
        let recs = parse_pax(b"12 path=abc\n", 0).unwrap();
        assert_eq!(recs["path"], b"abc");
        assert!(parse_pax(b"99 path=abc\n", 0).is_err());
        assert!(parse_pax(b"x path=abc\n", 0).is_err());
    }
}
