//! Unit tests of the property checks, each with a case that must fire and one that must not;
//! written to kill the mutants `benches/mutants.sh` found surviving.

use std::path::Path;

use super::property::{capped, MAX_DETAILS};
use super::*;
use crate::archive::{GzipHeader, HeaderForm, Member, MemberKind};
use crate::layout::{Content, Entry, Layout, Root};
use crate::packager::{FnPackager, PackJob, Packager};

fn member(path: &str, kind: MemberKind) -> Member {
    Member {
        path: RawPath::from(path),
        raw_name: RawPath::from(path),
        kind,
        mode: if kind == MemberKind::Dir {
            0o755
        } else {
            0o644
        },
        uid: 0,
        gid: 0,
        mtime: 0,
        size: 0,
        sha256: None,
        link_target: None,
        device: None,
        form: HeaderForm::Ustar,
        offset: 0,
        uname: Vec::new(),
        gname: Vec::new(),
        pax: Default::default(),
    }
}

fn file(path: &str) -> Member {
    member(path, MemberKind::File)
}

fn props(out: &[Violation]) -> Vec<&str> {
    out.iter().map(|v| v.property.id()).collect()
}

/// Writes a gzipped tar of `(name, content)` files with owner 1000 and distinct mtimes.
fn write_unnormalized(output: &Path, files: &[(&str, &[u8])]) -> Result<(), String> {
    let f = fs::File::create(output).map_err(|e| e.to_string())?;
    let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (i, (name, data)) in files.iter().enumerate() {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_uid(1000);
        h.set_mtime(1_000 + i as u64);
        h.set_cksum();
        b.append_data(&mut h, name, *data)
            .map_err(|e| e.to_string())?;
    }
    b.into_inner()
        .and_then(|gz| gz.finish())
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Runs `packager` on `layout` and judges it, as the runner does.
fn judge(layout: &Layout, packager: &dyn Packager, opts: ContractOptions) -> Vec<Violation> {
    let sb = Sandbox::materialize(layout).expect("sandbox");
    let before = sb.digest().expect("digest");
    let tree = scan_model_dir(&sb.model_dir()).expect("scan");
    let job = PackJob::for_sandbox(&sb, std::time::Duration::from_secs(30));
    let outcome = packager.pack(&job);
    let after = sb.digest().expect("digest");
    let ev = Evidence {
        sandbox: &sb,
        model_tree: &tree,
        before: &before,
        after: &after,
        outcome: &outcome,
        second_run: None,
    };
    check(&ev, opts).violations
}

#[test]
fn strict_properties_are_checked_only_in_the_strict_profile() {
    let layout = Layout::new().with(Entry::file(Root::Model, "a.txt", Content::Text("a".into())));
    let p = FnPackager::new("unnormalized", |_: &Path, out: &Path| {
        write_unnormalized(out, &[("a.txt", b"a")])
    });
    let default = judge(&layout, &p, ContractOptions::default());
    assert!(default.is_empty(), "{default:?}");
    let strict = ContractOptions {
        strict: true,
        ..ContractOptions::default()
    };
    let found = judge(&layout, &p, strict);
    assert!(props(&found).contains(&"normalized"), "{found:?}");
}

#[test]
fn sorted_accepts_byte_and_depth_first_order_only() {
    let run = |names: &[&str]| {
        let mut out = Vec::new();
        strict::check_sorted(
            &Manifest::of_members(names.iter().map(|n| file(n)).collect()),
            &mut out,
        );
        out
    };
    assert!(run(&["a", "b", "c"]).is_empty());
    // `-` sorts before `/` by bytes; depth-first puts `a/b` (inside `a`) first.
    assert!(run(&["a-c", "a/b"]).is_empty());
    assert!(run(&["a/b", "a-c"]).is_empty());
    let bad = run(&["a", "c", "b"]);
    assert_eq!(props(&bad), ["sorted"]);
    assert_eq!(bad[0].path, Some(RawPath::from("b")));
    assert_eq!(bad[0].details, ["`b` comes after `c`"]);
}

#[test]
fn sorted_wants_each_directory_before_its_children() {
    let mut out = Vec::new();
    let m = Manifest::of_members(vec![member("d", MemberKind::Dir), file("d/x")]);
    strict::check_sorted(&m, &mut out);
    assert!(out.is_empty(), "{out:?}");
    let m = Manifest::of_members(vec![file("d/x"), member("d", MemberKind::Dir), file("e")]);
    strict::check_sorted(&m, &mut out);
    let late: Vec<_> = out
        .iter()
        .filter(|v| v.expected == "each directory before its children")
        .collect();
    assert_eq!(late.len(), 1, "{out:?}");
    assert_eq!(late[0].path, Some(RawPath::from("d/x")));
    // A parent that is not a listed directory is not required first.
    let mut out = Vec::new();
    strict::check_sorted(
        &Manifest::of_members(vec![file("d/x"), file("d")]),
        &mut out,
    );
    assert!(out
        .iter()
        .all(|v| v.expected != "each directory before its children"));
}

fn normalized(members: Vec<Member>, header: Option<GzipHeader>) -> Vec<Violation> {
    let mut m = Manifest::of_members(members);
    m.gzip_header = header;
    let mut out = Vec::new();
    strict::check_normalized(&m, &mut out);
    out
}

#[test]
fn normalized_owners_modes_and_mtimes() {
    assert!(normalized(vec![file("a"), member("d", MemberKind::Dir)], None).is_empty());
    let with = |f: &dyn Fn(&mut Member)| {
        let mut x = file("a");
        f(&mut x);
        normalized(vec![x], None).len()
    };
    assert_eq!(with(&|x| x.uid = 1), 1);
    assert_eq!(with(&|x| x.gid = 1), 1);
    assert_eq!(with(&|x| x.mode = 0o640), 1, "not readable by others");
    assert_eq!(with(&|x| x.mode = 0o646), 1, "world-writable");
    assert_eq!(with(&|x| x.mode = 0o4644), 1, "setuid");
    assert_eq!(with(&|x| x.mode = 0o2644), 1, "setgid");
    assert_eq!(with(&|x| x.mode = 0o600), 1);
    assert_eq!(with(&|x| x.mode = 0o444), 0);
    let mut dir = member("d", MemberKind::Dir);
    dir.mode = 0o754;
    assert_eq!(
        normalized(vec![dir], None).len(),
        1,
        "a dir others cannot search"
    );
    let mut link = member("l", MemberKind::Symlink);
    link.mode = 0o777;
    assert!(
        normalized(vec![link], None).is_empty(),
        "link modes do not count"
    );
    let mut later = file("b");
    later.mtime = 5;
    assert_eq!(normalized(vec![file("a"), later], None).len(), 1);
}

#[test]
fn normalized_gzip_header() {
    let header = |mtime, file_name: Option<&[u8]>| GzipHeader {
        mtime,
        file_name: file_name.map(<[u8]>::to_vec),
        has_comment: false,
        xfl: 0,
        os: 3,
        extra: None,
    };
    assert!(normalized(vec![], Some(header(0, None))).is_empty());
    assert_eq!(normalized(vec![], Some(header(7, None))).len(), 1);
    assert_eq!(normalized(vec![], Some(header(0, Some(b"m.tar")))).len(), 1);
}

#[test]
fn deterministic_compares_the_second_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("model.tar.gz");
    fs::write(&out_path, b"bytes").expect("write");
    let (sha, _) = crate::layout::hash_file(&out_path).expect("hash");
    let run = |output: Option<[u8; 32]>| {
        let second = SecondRun {
            output,
            output_file: None,
            after: Err("not taken".into()),
            varied: Vec::new(),
            not_varied: Vec::new(),
            causes: Vec::new(),
            attribution: None,
        };
        let mut out = Vec::new();
        strict::check_deterministic(&out_path, &second, &mut out);
        props(&out).len()
    };
    assert_eq!(run(Some(sha)), 0);
    assert_eq!(run(Some([0; 32])), 1);
    assert_eq!(run(None), 1);
}

#[test]
fn ids_parse_back_and_unknown_ids_do_not() {
    for p in Property::DEFAULT.into_iter().chain(Property::STRICT) {
        assert_eq!(Property::from_id(p.id()), Some(p.clone()));
        assert_eq!(p.to_string(), p.id());
    }
    assert_eq!(Property::from_id("no-such-property"), None);
}

#[test]
fn elide_keeps_both_ends_past_160_chars() {
    let short = "x".repeat(160);
    assert_eq!(elide(&short), short);
    let long: String = (0..200)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let e = elide(&long);
    assert_eq!(e, format!("{}…[60 chars]…{}", &long[..90], &long[150..]));
}

#[test]
fn capped_keeps_a_dozen_and_counts_the_rest() {
    let lines = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
    assert_eq!(capped(lines(MAX_DETAILS)), lines(MAX_DETAILS));
    let more = capped(lines(MAX_DETAILS + 2));
    assert_eq!(more.len(), MAX_DETAILS + 1);
    assert_eq!(more[MAX_DETAILS], "… and 2 more");
}

#[test]
fn a_violation_displays_its_parts() {
    let mut x = property::v(Property::Fidelity, Some(RawPath::from("a")), "e", "f");
    x.details = vec!["d".into()];
    assert_eq!(
        x.to_string(),
        "[fidelity] `a`: expected e; found f\n      d"
    );
    let json = serde_json::to_value(&x).expect("json");
    assert_eq!(json["property"], "fidelity");
}

#[test]
fn sandbox_bytes_counts_file_bytes_only() {
    use crate::layout::{Digest, Node};
    let mut d = Digest {
        nodes: Default::default(),
    };
    let file = |size| Node::File {
        mode: 0o644,
        size,
        sha256: [0; 32],
    };
    d.nodes.insert(RawPath::from("a"), file(3));
    d.nodes.insert(RawPath::from("b"), file(5));
    d.nodes
        .insert(RawPath::from("d"), Node::Dir { mode: 0o755 });
    assert_eq!(framing::sandbox_bytes(&d), 8);
    d.nodes.insert(RawPath::from("huge"), file(u64::MAX));
    assert_eq!(
        framing::sandbox_bytes(&d),
        u64::MAX,
        "saturates, never wraps"
    );
}
