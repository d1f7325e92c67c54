//! Unit tests of materializing layouts and of the tree digest.

use std::os::unix::fs::FileTypeExt;

use super::*;
use crate::layout::{Content, Entry, ModelFormat};

#[test]
fn a_layout_bigger_than_the_disk_is_refused_before_anything_is_written() {
    let huge = Layout::new().with(Entry::file(
        Root::Model,
        "model.safetensors",
        Content::Seeded {
            seed: 1,
            size: 1 << 60,
            fill: crate::layout::Fill::Floats,
        },
    ));
    let parent = tempfile::tempdir().unwrap();
    match Sandbox::materialize_in(parent.path(), &huge) {
        Err(SandboxError::NoSpace { need, free, .. }) => assert!(need > free),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a 1 EiB layout was accepted"),
    }
    assert_eq!(fs::read_dir(parent.path()).unwrap().count(), 0);
    let target = parent.path().join("box");
    assert!(matches!(
        Sandbox::materialize_at(&target, &huge),
        Err(SandboxError::NoSpace { .. })
    ));
    assert!(!target.exists());
    // The default place falls back from /dev/shm to the temp dir, then refuses too.
    assert!(matches!(
        Sandbox::materialize(&huge),
        Err(SandboxError::NoSpace { .. })
    ));
    // A small layout still builds.
    let small = Layout::new().with(Entry::file(Root::Model, "a", Content::random(1, 10)));
    assert!(Sandbox::materialize_in(parent.path(), &small).is_ok());
}

#[test]
fn every_entry_kind_materializes_as_itself() {
    let layout = Layout::new()
        .with(
            Entry::file(
                Root::Model,
                "d/w.safetensors",
                Content::format(ModelFormat::Safetensors, 1, 64),
            )
            .with_mode(0o751),
        )
        .with(Entry::dir(Root::Model, "empty").with_mode(0o700))
        .with(Entry::symlink(Root::Model, "link", "../../../outside/x"))
        .with(Entry::hardlink(Root::Model, "hl", "d/w.safetensors"))
        .with(Entry::fifo(Root::Model, "pipe").with_mode(0o600))
        .with(Entry::socket(Root::Model, "sock"))
        .with(Entry::file(
            Root::Cwd,
            RawPath::new(b"bad\xff".to_vec()),
            Content::Text("x".into()),
        ));
    let sb = Sandbox::materialize(&layout).unwrap();
    let m = sb.model_dir();
    let meta = fs::symlink_metadata(m.join("d/w.safetensors")).unwrap();
    assert!(meta.is_file());
    assert_eq!(meta.mode() & 0o7777, 0o751);
    assert_eq!(
        meta.len(),
        Content::format(ModelFormat::Safetensors, 1, 64).len()
    );
    assert_eq!(meta.nlink(), 2);
    let meta = fs::symlink_metadata(m.join("empty")).unwrap();
    assert!(meta.is_dir());
    assert_eq!(meta.mode() & 0o7777, 0o700);
    assert_eq!(
        fs::read_link(m.join("link")).unwrap(),
        Path::new("../../../outside/x")
    );
    let hl = fs::symlink_metadata(m.join("hl")).unwrap();
    assert_eq!(
        hl.ino(),
        fs::symlink_metadata(m.join("d/w.safetensors"))
            .unwrap()
            .ino()
    );
    let fifo = fs::symlink_metadata(m.join("pipe")).unwrap();
    assert!(fifo.file_type().is_fifo());
    assert_eq!(fifo.mode() & 0o7777, 0o600);
    assert!(fs::symlink_metadata(m.join("sock"))
        .unwrap()
        .file_type()
        .is_socket());
    assert!(sb
        .cwd()
        .join(std::ffi::OsStr::from_bytes(b"bad\xff"))
        .is_file());
    assert_eq!(
        fs::symlink_metadata(m.join("d")).unwrap().mode() & 0o7777,
        0o755
    );
}

#[test]
fn materialize_refuses_a_malformed_layout() {
    let l = Layout::new().with(Entry::dir(Root::Model, "../up"));
    assert!(matches!(
        Sandbox::materialize(&l),
        Err(SandboxError::Layout(_))
    ));
}

#[test]
fn digest_sees_content_mode_and_target_changes_but_not_mtimes() {
    let l = Layout::new()
        .with(Entry::file(Root::Model, "a", Content::Text("1".into())))
        .with(Entry::symlink(Root::Model, "s", "a"));
    let sb = Sandbox::materialize(&l).unwrap();
    let d0 = sb.digest().unwrap();
    sb.shift_mtimes(-1000).unwrap();
    assert_eq!(d0, sb.digest().unwrap());
    fs::write(sb.output_path(), b"ignored").unwrap();
    assert_eq!(d0, sb.digest().unwrap(), "out/ is excluded");
    fs::set_permissions(sb.model_dir().join("a"), fs::Permissions::from_mode(0o755)).unwrap();
    let d1 = sb.digest().unwrap();
    assert_ne!(d0, d1);
    assert_eq!(d0.changes(&d1).len(), 1);
    fs::write(sb.model_dir().join("a"), b"2").unwrap();
    assert_ne!(d1, sb.digest().unwrap());
    fs::remove_file(sb.model_dir().join("s")).unwrap();
    std::os::unix::fs::symlink("b", sb.model_dir().join("s")).unwrap();
    assert!(sb
        .digest()
        .unwrap()
        .changes(&d1)
        .iter()
        .any(|c| c.contains("`opt/ml/model/s`")));
}

#[test]
fn a_sandbox_is_removed_on_drop_even_with_read_only_dirs() {
    let l = Layout::new()
        .with(Entry::dir(Root::Model, "ro").with_mode(0o500))
        .with(Entry::file(Root::Model, "ro/f", Content::Text("x".into())).with_mode(0o400));
    let sb = Sandbox::materialize(&l).unwrap();
    let root = sb.root().to_path_buf();
    drop(sb);
    assert!(!root.exists());
}

/// The model dir rebuilt in reverse creation order has the same digest and mtimes, lists
/// differently on tmpfs (which lists in creation order), and `restore` puts the original back.
#[test]
fn the_reordered_model_dir_holds_the_same_tree_and_the_original_comes_back() {
    let layout = Layout::new()
        .with(Entry::file(Root::Model, "a", Content::random(1, 10)))
        .with(Entry::file(Root::Model, "b", Content::random(2, 10)))
        .with(Entry::file(Root::Model, "sub/c", Content::random(3, 10)))
        .with(Entry::file(Root::Model, "sub/d", Content::random(4, 10)));
    let sb = Sandbox::materialize(&layout).unwrap();
    sb.shift_mtimes(-1000).unwrap();
    let before = sb.digest().unwrap();
    let mtime = |p: &str| {
        fs::symlink_metadata(sb.model_dir().join(p))
            .unwrap()
            .mtime()
    };
    let old = (mtime("a"), mtime("sub"));
    let r = sb.reorder_model_dir(&layout).unwrap();
    assert!(before.changes(&sb.digest().unwrap()).is_empty());
    assert_eq!((mtime("a"), mtime("sub")), old);
    let c = CString::new(sb.root().as_os_str().as_bytes()).unwrap();
    // SAFETY: a zeroed statfs is a valid out-parameter; `c` is NUL-terminated.
    let tmpfs = unsafe {
        let mut st: libc::statfs = std::mem::zeroed();
        libc::statfs(c.as_ptr(), &mut st) == 0 && st.f_type == libc::TMPFS_MAGIC
    };
    if tmpfs {
        assert!(r.lists_differently);
    }
    fs::write(sb.model_dir().join("written-by-the-rerun"), b"x").unwrap();
    r.restore().unwrap();
    assert!(!sb.model_dir().join("written-by-the-rerun").exists());
    assert!(before.changes(&sb.digest().unwrap()).is_empty());
}

/// `chown_all` gives every entry to another owner and keeps setuid and setgid bits, which a
/// chown by root clears.
#[test]
fn chown_all_keeps_setuid_and_setgid_bits() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        crate::unavailable::unavailable("chown_all", "chown needs root");
        return;
    }
    let layout = Layout::new().with(Entry::file(Root::Model, "tool", Content::random(1, 10)));
    let sb = Sandbox::materialize(&layout).unwrap();
    let tool = sb.model_dir().join("tool");
    fs::set_permissions(&tool, fs::Permissions::from_mode(0o6755)).unwrap();
    sb.chown_all(65_534, 65_534).unwrap();
    let m = fs::symlink_metadata(&tool).unwrap();
    assert_eq!(
        (m.uid(), m.gid(), m.mode() & 0o7777),
        (65_534, 65_534, 0o6755)
    );
    assert_eq!(sb.owner().unwrap(), (65_534, 65_534));
    sb.chown_all(0, 0).unwrap();
    let m = fs::symlink_metadata(&tool).unwrap();
    assert_eq!((m.uid(), m.mode() & 0o7777), (0, 0o6755));
}
