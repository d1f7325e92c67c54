//! The reader's structured errors on hand-made broken archives, and clean reads of valid ones.

use std::io::Write;

use super::*;
use crate::layout::RawPath;

fn header(name: &[u8], typeflag: u8, size: u64, link: &[u8], gnu: bool) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name);
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = typeflag;
    h[157..157 + link.len()].copy_from_slice(link);
    if gnu {
        h[257..265].copy_from_slice(b"ustar  \0");
    } else {
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
    }
    set_cksum(&mut h);
    h
}

fn set_cksum(h: &mut [u8; 512]) {
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

fn file(name: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = header(name, b'0', data.len() as u64, b"", false).to_vec();
    v.extend_from_slice(data);
    v.resize(v.len().div_ceil(512) * 512, 0);
    v
}

fn end() -> Vec<u8> {
    vec![0u8; 1024]
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn read(bytes: &[u8]) -> (Manifest, Option<ArchiveError>) {
    Manifest::read_lenient(bytes, Limits::default())
}

fn valid_tar() -> Vec<u8> {
    let mut t = file(b"model.pt", b"weights");
    t.extend(header(b"sub/", b'5', 0, b"", false));
    t.extend(header(b"sub/link", b'2', 0, b"../model.pt", false));
    t.extend(end());
    t
}

#[test]
fn a_valid_tar_gz_reads_cleanly_with_hashes() {
    let (m, err) = read(&gz(&valid_tar()));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(m.compression, Compression::Gzip);
    assert_eq!(m.members.len(), 3);
    assert_eq!(m.members[0].path, RawPath::from("model.pt"));
    assert_eq!(m.members[0].size, 7);
    let sha: [u8; 32] = sha2::Sha256::digest(b"weights").into();
    assert_eq!(m.members[0].sha256, Some(sha));
    assert_eq!(m.members[1].kind, MemberKind::Dir);
    assert_eq!(m.members[1].path, RawPath::from("sub"));
    assert_eq!(m.members[2].link_target, Some(RawPath::from("../model.pt")));
    assert!(m.name_problems().is_empty(), "{:?}", m.name_problems());
}

use sha2::Digest as _;

#[test]
fn a_plain_tar_and_concatenated_gzip_members_read_cleanly() {
    let (m, err) = read(&valid_tar());
    assert!(err.is_none());
    assert_eq!(m.compression, Compression::None);
    let t = valid_tar();
    let (a, b) = t.split_at(1024);
    let mut two = gz(a);
    two.extend(gz(b));
    let (m, err) = read(&two);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(m.gzip_members, 2);
    assert_eq!(m.members.len(), 3);
}

#[test]
fn a_truncated_gzip_is_reported() {
    let g = gz(&valid_tar());
    let (_, err) = read(&g[..g.len() - 20]);
    assert_eq!(err.map(|e| e.class()), Some("gzip-truncated"));
}

#[test]
fn a_flipped_crc_and_a_wrong_isize_are_reported() {
    let mut g = gz(&valid_tar());
    let n = g.len();
    g[n - 8] ^= 1;
    assert!(matches!(
        read(&g).1,
        Some(ArchiveError::GzipCrc { member: 1, .. })
    ));
    let mut g = gz(&valid_tar());
    g[n - 1] ^= 1;
    assert!(matches!(read(&g).1, Some(ArchiveError::GzipIsize { .. })));
}

#[test]
fn trailing_garbage_after_gzip_or_after_the_end_marker_is_reported() {
    let mut g = gz(&valid_tar());
    g.extend_from_slice(b"garbage");
    assert_eq!(read(&g).1.map(|e| e.class()), Some("trailing-garbage"));
    let mut t = valid_tar();
    t.extend_from_slice(&file(b"hidden", b"x"));
    assert_eq!(read(&gz(&t)).1.map(|e| e.class()), Some("trailing-garbage"));
}

#[test]
fn missing_end_blocks_are_reported_even_though_the_gzip_is_fine() {
    let mut t = file(b"model.pt", b"weights");
    let (m, err) = read(&gz(&t));
    assert!(
        matches!(
            err,
            Some(ArchiveError::MissingEndMarker { zero_blocks: 0, .. })
        ),
        "{err:?}"
    );
    assert_eq!(
        m.members.len(),
        1,
        "the members before the cut are still listed"
    );
    t.extend_from_slice(&[0u8; 512]);
    assert!(matches!(
        read(&gz(&t)).1,
        Some(ArchiveError::MissingEndMarker { zero_blocks: 1, .. })
    ));
}

#[test]
fn a_truncated_member_is_reported_with_its_name() {
    let mut t = header(b"model.pt", b'0', 4096, b"", false).to_vec();
    t.extend_from_slice(&[1u8; 1000]);
    match read(&gz(&t)).1 {
        Some(ArchiveError::TarTruncated {
            member: Some(m), ..
        }) => assert_eq!(m, RawPath::from("model.pt")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_bad_header_checksum_is_reported() {
    let mut t = valid_tar();
    t[0] = b'X';
    assert_eq!(read(&gz(&t)).1.map(|e| e.class()), Some("header-checksum"));
}

#[test]
fn dotdot_absolute_and_escaping_link_names_are_name_problems() {
    let mut t = file(b"../evil.txt", b"x");
    t.extend(file(b"/etc/evil", b"x"));
    t.extend(header(b"lnk", b'2', 0, b"../../outside", false));
    t.extend(header(b"hl", b'1', 0, b"../x", false));
    t.extend(end());
    let (m, err) = read(&gz(&t));
    assert!(err.is_none());
    let classes: Vec<&str> = m.name_problems().iter().map(|p| p.class.id()).collect();
    assert_eq!(
        classes,
        ["parent-dir", "absolute", "link-escape", "link-escape"]
    );
}

#[test]
fn gnu_long_names_and_pax_paths_are_resolved() {
    let long = "d/".repeat(80) + "file.bin";
    let mut t = header(b"././@LongLink", b'L', long.len() as u64 + 1, b"", true).to_vec();
    let mut data = long.as_bytes().to_vec();
    data.push(0);
    data.resize(data.len().div_ceil(512) * 512, 0);
    t.extend(data);
    t.extend(file(b"truncated-name", b"abc"));
    let body = " path=pax/\u{e9}t\u{e9}.bin\n";
    let rec = format!("{}{body}", body.len() + 2);
    assert_eq!(rec.len(), body.len() + 2);
    let mut x = header(b"././@PaxHeader", b'x', rec.len() as u64, b"", false).to_vec();
    let mut d = rec.as_bytes().to_vec();
    d.resize(512, 0);
    x.extend(d);
    t.extend(x);
    t.extend(file(b"pax-short", b"def"));
    t.extend(end());
    let (m, err) = read(&t);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(m.members[0].path, RawPath::from(long.as_str()));
    assert_eq!(m.members[0].form, HeaderForm::GnuLongName);
    assert_eq!(m.members[1].path, RawPath::from("pax/\u{e9}t\u{e9}.bin"));
    assert_eq!(m.members[1].form, HeaderForm::Pax);
}

#[test]
fn not_an_archive_is_its_own_class_and_the_bomb_guard_stops_early() {
    assert_eq!(
        read(b"hello, this is not an archive at all")
            .1
            .map(|e| e.class()),
        Some("not-an-archive")
    );
    let mut t = header(b"zeros", b'0', 50 << 20, b"", false).to_vec();
    t.resize(t.len() + (50 << 20), 0);
    t.extend(end());
    let g = gz(&t);
    let limits = Limits {
        max_unpacked: Some(1 << 20),
        ..Limits::default()
    };
    let (_, err) = Manifest::read_lenient(g.as_slice(), limits);
    assert_eq!(err.map(|e| e.class()), Some("unpacked-limit"));
}

// ---- regressions from the hostile-archive corpus (tests/hostile_archives) ----

#[test]
fn a_size_near_2_pow_64_is_an_error_not_an_overflow_panic() {
    // Regression: padding a base-256 size of 2^64-1 to a block boundary overflowed (a panic in
    // debug builds, a wrap to 0 and a misparse in release).
    let mut h = header(b"f", b'0', 0, b"", true);
    h[124..136].copy_from_slice(&[
        0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
    set_cksum(&mut h);
    let mut t = h.to_vec();
    t.extend(end());
    assert_eq!(read(&t).1.map(|e| e.class()), Some("bad-number"));
    // The same through a pax `size` record.
    let rec = b"30 size=18446744073709551615\n";
    let mut t = header(b"././@PaxHeader", b'x', rec.len() as u64, b"", false).to_vec();
    let mut d = rec.to_vec();
    d.resize(512, 0);
    t.extend(d);
    t.extend(file(b"f", b"x"));
    t.extend(end());
    assert_eq!(read(&t).1.map(|e| e.class()), Some("pax-record"));
    // The largest legal size still parses (and is then truncated, not misread).
    let mut h = header(b"f", b'0', 0, b"", true);
    h[124..136].copy_from_slice(&[
        0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
    set_cksum(&mut h);
    assert_eq!(read(&h).1.map(|e| e.class()), Some("tar-truncated"));
}

#[test]
fn old_gnu_sparse_extension_blocks_are_skipped_before_the_data() {
    // Regression: the extension block was read as member data, so the next header was
    // misaligned and the archive reported a bad checksum.
    // The header's four map slots are full, so the map continues in one extension block
    // (GNU tar reads extensions only then; Python whenever `isextended` is set).
    let mut h = header(b"sparse.bin", b'S', 2560, b"", true);
    for (i, off) in [
        b"00000000000\0",
        b"00000002000\0",
        b"00000004000\0",
        b"00000006000\0",
    ]
    .iter()
    .enumerate()
    {
        h[386 + i * 24..398 + i * 24].copy_from_slice(*off);
        h[398 + i * 24..410 + i * 24].copy_from_slice(b"00000001000\0");
    }
    h[482] = 1;
    h[483..495].copy_from_slice(b"00000011000\0");
    set_cksum(&mut h);
    let mut ext = [0u8; 512];
    ext[0..12].copy_from_slice(b"00000010000\0");
    ext[12..24].copy_from_slice(b"00000001000\0");
    let mut t = h.to_vec();
    t.extend(ext);
    t.extend([b'S'; 2560]);
    t.extend(file(b"after.txt", b"after"));
    t.extend(end());
    let (m, err) = read(&t);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(m.members.len(), 2);
    assert_eq!(m.members[0].kind, MemberKind::Other(b'S'));
    assert_eq!(m.members[1].path, RawPath::from("after.txt"));
    // An extension chain that never ends is capped like any metadata.
    let mut t = h.to_vec();
    let mut ext = [0u8; 512];
    ext[504] = 1;
    for _ in 0..3000 {
        t.extend(ext);
    }
    assert_eq!(read(&t).1.map(|e| e.class()), Some("metadata-too-large"));
}

#[test]
fn a_checksum_field_that_is_not_a_number_is_a_checksum_error() {
    // Regression: random bytes (a nested gzip) were reported as `bad-number` in `chksum`.
    let mut h = header(b"f", b'0', 0, b"", false);
    h[148..156].copy_from_slice(b"zzzzzzz\0");
    let mut t = h.to_vec();
    t.extend(end());
    match read(&t).1 {
        Some(e @ ArchiveError::HeaderChecksum { expected: None, .. }) => {
            assert!(e.to_string().contains("not a number"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn write_through_links_duplicates_devices_and_setuid_are_unsafe_members() {
    let mut t = header(b"lnk", b'2', 0, b"sub", false).to_vec();
    t.extend(file(b"lnk/f", b"x"));
    t.extend(file(b"./a", b"1"));
    t.extend(file(b"a", b"2"));
    let mut dev = header(b"zero", b'3', 0, b"", false);
    dev[100..108].copy_from_slice(b"0000666\0");
    set_cksum(&mut dev);
    t.extend(dev);
    let mut su = header(b"su", b'0', 0, b"", false);
    su[100..108].copy_from_slice(b"0006755\0");
    set_cksum(&mut su);
    t.extend(su);
    let mut sgid_dir = header(b"shared/", b'5', 0, b"", false);
    sgid_dir[100..108].copy_from_slice(b"0002775\0");
    set_cksum(&mut sgid_dir);
    t.extend(sgid_dir);
    // A symlink replaced by a directory no longer makes its children write-through.
    t.extend(header(b"d", b'2', 0, b"x", false));
    t.extend(header(b"d/", b'5', 0, b"", false));
    t.extend(file(b"d/g", b"x"));
    // Root entries are not duplicates of each other.
    t.extend(header(b"./", b'5', 0, b"", false));
    t.extend(header(b".", b'5', 0, b"", false));
    t.extend(end());
    let (m, err) = read(&t);
    assert!(err.is_none(), "{err:?}");
    let got: Vec<(usize, &str)> = m
        .name_problems()
        .iter()
        .map(|p| (p.index, p.class.id()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "through-symlink"),
            (3, "duplicate"),
            (4, "device"),
            (5, "setuid"),
            (5, "setgid"),
            (8, "duplicate")
        ]
    );
}

#[test]
fn the_member_limit_keeps_exactly_that_many_members() {
    let mut t = Vec::new();
    for i in 0..5 {
        t.extend(file(format!("f{i}").as_bytes(), b""));
    }
    t.extend(end());
    let limits = Limits {
        max_members: Some(3),
        ..Limits::default()
    };
    let (m, err) = Manifest::read_lenient(t.as_slice(), limits);
    assert_eq!(err.map(|e| e.class()), Some("too-many-members"));
    assert_eq!(m.members.len(), 3);
    let limits = Limits {
        max_members: Some(5),
        ..Limits::default()
    };
    assert!(Manifest::read_lenient(t.as_slice(), limits).1.is_none());
}

#[test]
fn an_endless_stream_of_zeros_stops_after_the_padding_cap() {
    // Regression: `/dev/zero` (or `cat /dev/zero |`) looks like an empty tar, and the check
    // for trailing garbage read its zero padding forever.
    let (m, err) = read_lenient_endless();
    assert!(m.members.is_empty());
    assert_eq!(err.map(|e| e.class()), Some("trailing-garbage"));
}

fn read_lenient_endless() -> (Manifest, Option<ArchiveError>) {
    Manifest::read_lenient(std::io::repeat(0), Limits::default())
}

#[test]
fn open_archive_refuses_devices_and_directories_and_never_waits_for_a_fifo_writer() {
    for p in ["/dev/zero", "/dev/null"] {
        let e = open_archive(Path::new(p)).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
    }
    let d = tempfile::tempdir().unwrap();
    let e = open_archive(d.path()).unwrap_err();
    assert!(e.to_string().contains("a directory"), "{e}");
    let fifo = d.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    // No writer: returns at once and reads as empty, which is not an archive.
    let f = open_archive(&fifo).unwrap();
    let (_, err) = Manifest::read_lenient(f, Limits::default());
    assert_eq!(err.map(|e| e.class()), Some("not-an-archive"));
}

/// The gzip header's FNAME and FCOMMENT fields are read whole (up to their NUL) and the file
/// name is kept: `normalized` and `packtest diff` report it.
#[test]
fn a_gzip_header_file_name_is_read_whole() {
    let mut t = ::tar::Builder::new(Vec::new());
    let mut h = ::tar::Header::new_ustar();
    h.set_size(1);
    h.set_mode(0o644);
    h.set_cksum();
    t.append_data(&mut h, "a", &b"x"[..]).unwrap();
    let tar = t.into_inner().unwrap();
    let mut gz = flate2::GzBuilder::new()
        .filename("model.tar")
        .comment("made by hand")
        .write(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let bytes = gz.finish().unwrap();
    let (m, err) = Manifest::read_lenient(bytes.as_slice(), Limits::default());
    assert!(err.is_none(), "{err:?}");
    let header = m.gzip_header.expect("a gzip header");
    assert_eq!(header.file_name.as_deref(), Some(&b"model.tar"[..]));
    assert!(header.has_comment);
    assert_eq!(
        m.members.len(),
        1,
        "the member after the header fields is read"
    );
}
