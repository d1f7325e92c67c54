//! The expected tree per target on hand-made model dirs and worlds.

use super::*;

fn entry(kind: DiskKind, target: Option<&str>, sha: u8) -> DiskEntry {
    DiskEntry {
        kind,
        mode: if kind == DiskKind::Dir { 0o755 } else { 0o644 },
        size: if kind == DiskKind::File { 3 } else { 0 },
        sha256: (kind == DiskKind::File).then_some([sha; 32]),
        target: target.map(RawPath::from),
    }
}

fn tree(items: &[(&str, DiskKind, Option<&str>)]) -> DiskTree {
    let mut t = DiskTree::default();
    for (i, (p, k, tg)) in items.iter().enumerate() {
        t.entries.insert(RawPath::from(*p), entry(*k, *tg, i as u8));
    }
    t
}

fn want(t: &DiskTree, target: Target) -> Expected {
    expected(&World::model_only(t, Some(b"/m")), target)
}

use DiskKind::{Dir, File, Symlink};

#[test]
fn sagemaker_copies_internal_links_to_files_and_dirs() {
    let t = tree(&[
        ("a.bin", File, None),
        ("d", Dir, None),
        ("d/x", File, None),
        ("link", Symlink, Some("a.bin")),
        ("dl", Symlink, Some("d")),
        ("abs", Symlink, Some("/m/a.bin")),
    ]);
    let e = want(&t, Target::Sagemaker);
    assert!(
        matches!(&e.tree[&RawPath::from("link")], Want::File { sha256: Some(h), .. } if *h == [0; 32])
    );
    assert!(
        matches!(&e.tree[&RawPath::from("abs")], Want::File { sha256: Some(h), .. } if *h == [0; 32])
    );
    assert!(matches!(e.tree[&RawPath::from("dl")], Want::Dir { .. }));
    assert!(
        matches!(&e.tree[&RawPath::from("dl/x")], Want::File { sha256: Some(h), .. } if *h == [2; 32])
    );
    assert!(!e.refusable());
    let p = want(&t, Target::Posix);
    assert!(matches!(
        p.tree[&RawPath::from("link")],
        Want::Symlink { .. }
    ));
    assert!(!p.tree.contains_key(&RawPath::from("dl/x")));
}

#[test]
fn escaping_dangling_looping_and_cycling_links_must_be_refused() {
    let t = tree(&[
        ("out", Symlink, Some("../outside/x")),
        ("gone", Symlink, Some("missing")),
        ("a", Symlink, Some("b")),
        ("b", Symlink, Some("a")),
        ("sub", Dir, None),
        ("sub/up", Symlink, Some("..")),
        ("self", Symlink, Some(".")),
    ]);
    for target in [Target::Sagemaker, Target::Kserve] {
        let e = want(&t, target);
        let refused: Vec<String> = e.must_refuse().map(|(p, _)| p.to_string()).collect();
        let want: Vec<&str> = if target == Target::Sagemaker {
            vec!["a", "b", "gone", "out", "self", "sub/up"]
        } else {
            // kserve keeps relative links that stay inside, cycles included.
            vec!["a", "b", "gone", "out"]
        };
        assert_eq!(refused, want, "{target}");
    }
    assert!(want(&t, Target::Posix).must_refuse().next().is_none());
}

#[test]
fn kserve_may_copy_or_refuse_an_absolute_internal_link() {
    let t = tree(&[("a.bin", File, None), ("abs", Symlink, Some("/m/a.bin"))]);
    let e = want(&t, Target::Kserve);
    assert!(matches!(e.tree[&RawPath::from("abs")], Want::File { .. }));
    assert_eq!(e.may_refuse.len(), 1);
}

#[test]
fn specials_are_stored_only_for_posix() {
    let t = tree(&[("p", DiskKind::Fifo, None), ("s", DiskKind::Socket, None)]);
    let p = want(&t, Target::Posix);
    assert!(matches!(p.tree[&RawPath::from("p")], Want::Special { .. }));
    assert!(p.refusable() && p.must_refuse().next().is_none());
    let s = want(&t, Target::Sagemaker);
    assert_eq!(s.must_refuse().count(), 1);
    assert!(!s.tree.contains_key(&RawPath::from("s")));
}

#[test]
fn a_sandbox_world_resolves_up_and_back_into_the_model_dir() {
    let t = tree(&[
        ("opt", Dir, None),
        ("opt/ml", Dir, None),
        ("opt/ml/model", Dir, None),
        ("opt/ml/model/w", File, None),
        ("opt/ml/model/l", Symlink, Some("../model/w")),
        ("opt/ml/secret", File, None),
        ("opt/ml/model/s", Symlink, Some("../secret")),
    ]);
    let model = RawPath::from("opt/ml/model");
    let w = World {
        entries: &t.entries,
        model: &model,
        abs_root: None,
    };
    let e = expected(&w, Target::Sagemaker);
    assert!(matches!(e.tree[&RawPath::from("l")], Want::File { .. }));
    assert!(matches!(e.tree[&RawPath::from("s")], Want::Refuse { .. }));
    // kserve's data filter resolves inside the destination: `../model/w` leaves it.
    let k = expected(&w, Target::Kserve);
    assert!(matches!(k.tree[&RawPath::from("l")], Want::Refuse { .. }));
}
