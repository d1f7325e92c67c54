use std::io::Write;
use std::path::{Path, PathBuf};

use super::*;

/// One member to write: name, mode, mtime, uname, data.
struct M<'a> {
    name: &'a str,
    mode: u32,
    mtime: u64,
    uname: &'a str,
    data: Vec<u8>,
}

fn m(name: &str, data: Vec<u8>) -> M<'_> {
    M {
        name,
        mode: 0o644,
        mtime: 0,
        uname: "",
        data,
    }
}

/// Writes a .tar.gz with the given gzip header mtime and members.
fn write(dir: &Path, file: &str, gz_mtime: u32, members: &[M<'_>]) -> PathBuf {
    let path = dir.join(file);
    let f = std::fs::File::create(&path).unwrap();
    let gz = flate2::GzBuilder::new()
        .mtime(gz_mtime)
        .write(f, flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for x in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(x.data.len() as u64);
        h.set_mode(x.mode);
        h.set_mtime(x.mtime);
        h.set_username(x.uname).unwrap();
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, x.name, x.data.as_slice()).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap().flush().unwrap();
    path
}

fn diff(a: &Path, b: &Path) -> ArchiveDiff {
    diff_archives(a, b, Limits::default()).unwrap()
}

fn fields(d: &ArchiveDiff, path: &str) -> Vec<String> {
    d.members
        .iter()
        .find(|m| m.path == RawPath::from(path))
        .map(|m| m.changes.iter().map(|c| c.field.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn the_same_archive_has_no_difference() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.tgz", 0, &[m("x", b"1".to_vec())]);
    let b = write(dir.path(), "b.tgz", 0, &[m("x", b"1".to_vec())]);
    let d = diff(&a, &b);
    assert!(d.is_empty(), "{d:?}");
    assert!(render_text(&d).is_empty());
}

#[test]
fn gzip_header_fields_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.tgz", 0, &[m("x", b"1".to_vec())]);
    let b = write(dir.path(), "b.tgz", 1_700_000_000, &[m("x", b"1".to_vec())]);
    let d = diff(&a, &b);
    assert_eq!(d.gzip, vec![change("mtime", 0, 1_700_000_000)]);
    assert!(d.members.is_empty());
    assert_eq!(render_text(&d), vec!["gzip mtime: 0 -> 1700000000"]);
}

#[test]
fn member_fields_are_named_each() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.tgz", 0, &[m("x", b"1".to_vec())]);
    let other = M {
        name: "x",
        mode: 0o600,
        mtime: 86_400,
        uname: "alice",
        data: b"1".to_vec(),
    };
    let b = write(dir.path(), "b.tgz", 0, &[other]);
    let d = diff(&a, &b);
    assert_eq!(fields(&d, "x"), ["mode", "uname", "mtime"]);
    let text = render_text(&d).join("\n");
    assert!(text.contains("mode: 0644 -> 0600"), "{text}");
    assert!(text.contains("uname: \"\" -> alice"), "{text}");
}

#[test]
fn the_first_differing_byte_is_located_by_streaming_both() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let mut other = data.clone();
    other[200_001] ^= 1;
    let a = write(
        dir.path(),
        "a.tgz",
        0,
        &[m("first", b"same".to_vec()), m("w.bin", data.clone())],
    );
    let b = write(
        dir.path(),
        "b.tgz",
        0,
        &[m("first", b"same".to_vec()), m("w.bin", other)],
    );
    let d = diff(&a, &b);
    assert_eq!(fields(&d, "w.bin"), ["sha256"]);
    assert_eq!(d.members[0].first_difference, Some(200_001));
    let text = render_text(&d).join("\n");
    assert!(text.contains("first difference at byte 200001"), "{text}");
    // A truncated copy differs at its end.
    let c = write(
        dir.path(),
        "c.tgz",
        0,
        &[
            m("first", b"same".to_vec()),
            m("w.bin", data[..1000].to_vec()),
        ],
    );
    let d = diff(&a, &c);
    assert_eq!(fields(&d, "w.bin"), ["size", "sha256"]);
    assert_eq!(d.members[0].first_difference, Some(1000));
}

#[test]
fn order_and_membership_differences_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.tgz",
        0,
        &[m("a", vec![]), m("b", vec![]), m("gone", vec![])],
    );
    let b = write(
        dir.path(),
        "b.tgz",
        0,
        &[m("b", vec![]), m("a", vec![]), m("new", vec![])],
    );
    let d = diff(&a, &b);
    assert_eq!(d.only_in_a, vec![RawPath::from("gone")]);
    assert_eq!(d.only_in_b, vec![RawPath::from("new")]);
    let o = d.order.clone().unwrap();
    assert_eq!((o.position, o.a, o.b), (0, "a".into(), "b".into()));
    assert!(d.members.is_empty(), "{:?}", d.members);
}

#[test]
fn pax_records_are_compared() {
    let mut a = BTreeMap::new();
    a.insert("mtime".to_owned(), b"1.5".to_vec());
    let mut b = a.clone();
    b.insert("mtime".to_owned(), b"2.5".to_vec());
    b.insert("SCHILY.xattr.user.x".to_owned(), b"v".to_vec());
    let c = compare_pax(&a, &b);
    let f: Vec<&str> = c.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(f, ["pax:SCHILY.xattr.user.x", "pax:mtime"]);
    assert_eq!(c[0].a, "-");
}

#[test]
fn a_damaged_archive_is_an_error_not_a_difference() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.tgz", 0, &[m("x", b"1".to_vec())]);
    let bad = dir.path().join("bad.tgz");
    std::fs::write(&bad, b"not an archive at all").unwrap();
    assert!(matches!(
        diff_archives(&a, &bad, Limits::default()),
        Err(DiffError::Read { path, .. }) if path == bad
    ));
}

#[test]
fn streams_compare_to_the_first_difference_or_the_shorter_end() {
    let cmp = |a: &[u8], b: &[u8]| lockstep::compare_streams(&mut &a[..], &mut &b[..]).unwrap();
    assert_eq!(cmp(b"abc", b"abc"), None);
    assert_eq!(cmp(b"abc", b"abd"), Some(2));
    assert_eq!(cmp(b"abc", b"ab"), Some(2));
    assert_eq!(cmp(b"", b"x"), Some(0));
    let big = vec![7u8; 200_000];
    let mut other = big.clone();
    other[131_072] = 8;
    assert_eq!(cmp(&big, &other), Some(131_072));
}

#[test]
fn a_plain_tar_against_a_tar_gz_is_a_compression_change_only() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.tgz", 0, &[m("x", b"1".to_vec())]);
    let plain = dir.path().join("a.tar");
    let mut gz = flate2::read::GzDecoder::new(std::fs::File::open(&a).unwrap());
    std::io::copy(&mut gz, &mut std::fs::File::create(&plain).unwrap()).unwrap();
    let d = diff(&a, &plain);
    let f: Vec<&str> = d.gzip.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(f, ["compression", "gzip-members"], "{d:?}");
    assert!(d.members.is_empty() && d.order.is_none());
}
