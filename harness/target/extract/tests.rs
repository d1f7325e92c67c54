//! The consumers' extraction model on hand-made manifests.

use super::*;
use crate::archive::{HeaderForm, Member, MemberKind};
use crate::layout::RawPath;

fn member(name: &str, kind: MemberKind, link: Option<&str>) -> Member {
    Member {
        path: crate::archive::normalize_name(name.as_bytes()),
        raw_name: RawPath::from(name),
        kind,
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 0,
        size: if kind == MemberKind::File { 1 } else { 0 },
        sha256: (kind == MemberKind::File).then_some([name.len() as u8; 32]),
        link_target: link.map(RawPath::from),
        device: None,
        form: HeaderForm::Gnu,
        offset: 0,
        uname: Vec::new(),
        gname: Vec::new(),
        pax: Default::default(),
    }
}

use MemberKind::{Dir, File, Hardlink, Symlink};

#[test]
fn sagemaker_refuses_every_link_posix_keeps_them() {
    let m = Manifest::of_members(vec![
        member("./", Dir, None),
        member("./a", File, None),
        member("./l", Symlink, Some("a")),
        member("./h", Hardlink, Some("./a")),
    ]);
    let s = extract(&m, Target::Sagemaker);
    assert_eq!(s.refusals.len(), 2);
    assert!(s.fatal());
    let p = extract(&m, Target::Posix);
    assert!(p.refusals.is_empty());
    assert!(matches!(
        p.tree.entries[&RawPath::from("h")],
        VEntry::File { member: 1, .. }
    ));
    assert!(matches!(
        p.tree.entries[&RawPath::from("l")],
        VEntry::Symlink { .. }
    ));
}

#[test]
fn kserve_refuses_absolute_and_escaping_links_and_names() {
    let m = Manifest::of_members(vec![
        member("ok", Symlink, Some("a")),
        member("abs", Symlink, Some("/etc/passwd")),
        member("d/out", Symlink, Some("../../x")),
        member("../evil", File, None),
        member("/rooted", File, None),
    ]);
    let k = extract(&m, Target::Kserve);
    let kinds: Vec<RefusalKind> = k.refusals.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RefusalKind::LinkTarget,
            RefusalKind::LinkTarget,
            RefusalKind::Name
        ]
    );
    assert!(k.tree.entries.contains_key(&RawPath::from("rooted")));
    assert!(k.tree.entries.contains_key(&RawPath::from("ok")));
}

#[test]
fn writes_through_links_follow_the_consumer() {
    let m = Manifest::of_members(vec![
        member("d", Dir, None),
        member("l", Symlink, Some("d")),
        member("l/x", File, None),
        member("u", Symlink, Some("../up")),
        member("u/y", File, None),
    ]);
    let p = extract(&m, Target::Posix);
    assert!(p.tree.entries.contains_key(&RawPath::from("d/x")));
    assert_eq!(p.refusals.len(), 1);
    assert_eq!(p.refusals[0].kind, RefusalKind::Through);
}

#[test]
fn kserve_drops_exec_bits_without_the_owners() {
    assert_eq!(consumer_mode(Target::Kserve, File, 0o011), 0o600);
    assert_eq!(consumer_mode(Target::Kserve, File, 0o777), 0o755);
    assert_eq!(consumer_mode(Target::Posix, File, 0o4755), 0o4755);
    assert_eq!(consumer_mode(Target::Sagemaker, File, 0o4755), 0o755);
}
