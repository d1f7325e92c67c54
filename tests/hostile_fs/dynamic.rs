//! Hostile filesystems that change while the packager runs, or that need a signal, a mount or
//! a resource limit: files that grow, shrink or vanish mid-walk; a full disk (a 256 KiB tmpfs
//! and `RLIMIT_FSIZE`); a read-only model dir; SIGKILL, SIGTERM and SIGINT mid-write.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use packtest::archive::{Limits, Manifest};
use packtest::layout::{Content, Entry, Layout, Root, Sandbox};
use packtest::packager::PackError;
use packtest::ReferencePackager;
use sha2::Digest as _;

use crate::support::*;

/// A model dir whose first entry (`a-big.bin`, sorted first) takes a while to pack.
fn big_layout(size: u64) -> Layout {
    Layout::new()
        .with(Entry::file(
            Root::Model,
            "a-big.bin",
            Content::random(11, size),
        ))
        .with(Entry::file(
            Root::Model,
            "code/inference.py",
            Content::Text("def model_fn(d): pass\n".into()),
        ))
        .with(Entry::file(
            Root::Model,
            "z-victim.bin",
            Content::random(12, 4096),
        ))
        .with(Entry::file(
            Root::Model,
            "z-dir/inner.bin",
            Content::random(13, 4096),
        ))
}

/// Waits until a `.packtest-*.partial` with at least `min` bytes exists in `dir`.
fn wait_for_partial(dir: &Path, min: u64, timeout: Duration) -> Option<PathBuf> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        for n in partials(dir) {
            let p = dir.join(&n);
            if std::fs::metadata(&p)
                .map(|m| m.len() >= min)
                .unwrap_or(false)
            {
                return Some(p);
            }
        }
        thread::sleep(Duration::from_millis(1));
    }
    None
}

/// How one pack ended, for the racy cases: the library's error or the binary's message.
enum Ended {
    Ok,
    Err(String),
}

/// The racy cases accept either outcome, but each must be exact: an error names `path` and
/// leaves nothing at the output path, and an archive reads cleanly and holds, for every file,
/// bytes the file really had (for `changed`, a prefix of what it holds now).
fn judge_racy(
    sb: &Sandbox,
    ended: &Ended,
    path: &Path,
    changed: Option<&Path>,
) -> Result<&'static str, String> {
    let out = sb.output_path();
    match ended {
        Ended::Err(msg) => {
            if !msg.contains(&*path.to_string_lossy()) {
                return Err(format!(
                    "the error does not name `{}`: {msg}",
                    path.display()
                ));
            }
            if std::fs::symlink_metadata(&out).is_ok() {
                return Err("a file was left at the output path".into());
            }
            let strays = partials(&out.with_file_name(""));
            if !strays.is_empty() {
                return Err(format!("temp files left: {strays:?}"));
            }
            Ok("error naming the path")
        }
        Ended::Ok => {
            let m = Manifest::read_path(&out, Limits::default())
                .map_err(|e| format!("the archive does not read: {e}"))?;
            for mem in m.members.iter().filter(|x| x.sha256.is_some()) {
                let disk = mem.path.under(&sb.model_dir());
                let bytes = std::fs::read(&disk).unwrap_or_default();
                let is_changed = changed == Some(disk.as_path());
                let want = if is_changed {
                    bytes.get(..mem.size as usize).map(<[u8]>::to_vec)
                } else {
                    Some(bytes)
                };
                let sha: Option<[u8; 32]> = want.map(|b| sha2::Sha256::digest(b).into());
                if sha != mem.sha256 {
                    return Err(format!(
                        "member `{}` holds bytes the file never had",
                        mem.path
                    ));
                }
            }
            Ok("consistent archive")
        }
    }
}

fn pack_lib(sb: &Sandbox) -> Ended {
    match ReferencePackager::new().pack_dir(&sb.model_dir(), &sb.output_path()) {
        Ok(_) => Ended::Ok,
        Err(e) => Ended::Err(e.to_string()),
    }
}

fn pack_bin(sb: &Sandbox) -> Ended {
    let r = run_pack(
        &sb.model_dir(),
        &sb.output_path(),
        &sb.cwd(),
        &RunOpts::default(),
    );
    match r.code {
        Some(0) => Ended::Ok,
        Some(1) => Ended::Err(String::from_utf8_lossy(&r.stderr).into_owned()),
        _ => Ended::Err(format!("UNEXPECTED ENDING {}", r.ending())),
    }
}

/// F-GROW: a writer thread appends to `a-big.bin` for as long as the pack runs.
#[test]
fn a_file_that_grows_while_packed_is_an_error_or_a_consistent_archive() {
    for (how, pack) in [
        ("library", pack_lib as fn(&Sandbox) -> Ended),
        ("binary", pack_bin),
    ] {
        let sb = Sandbox::materialize(&big_layout(16 << 20)).unwrap();
        let big = sb.model_dir().join("a-big.bin");
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (stop, big) = (stop.clone(), big.clone());
            thread::spawn(move || {
                let mut f = std::fs::OpenOptions::new().append(true).open(&big).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    f.write_all(&[7u8; 4096]).unwrap();
                    thread::sleep(Duration::from_micros(200));
                }
            })
        };
        let ended = pack(&sb);
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        if let Ended::Err(msg) = &ended {
            assert!(msg.contains("changed while it was packed"), "{how}: {msg}");
        }
        let verdict =
            judge_racy(&sb, &ended, &big, Some(&big)).unwrap_or_else(|e| panic!("{how}: {e}"));
        eprintln!("grow ({how}): {verdict}");
    }
}

/// F-SHRINK: a thread truncates `a-big.bin` to 1 MiB once writing has started.
#[test]
fn a_file_that_shrinks_while_packed_is_an_error_or_a_consistent_archive() {
    for (how, pack) in [
        ("library", pack_lib as fn(&Sandbox) -> Ended),
        ("binary", pack_bin),
    ] {
        let sb = Sandbox::materialize(&big_layout(48 << 20)).unwrap();
        let big = sb.model_dir().join("a-big.bin");
        let out_dir = sb.root().join("out");
        let cutter = {
            let big = big.clone();
            thread::spawn(move || {
                if wait_for_partial(&out_dir, 0, Duration::from_secs(30)).is_some() {
                    let f = std::fs::OpenOptions::new().write(true).open(&big).unwrap();
                    f.set_len(1 << 20).unwrap();
                }
            })
        };
        let ended = pack(&sb);
        cutter.join().unwrap();
        let verdict =
            judge_racy(&sb, &ended, &big, Some(&big)).unwrap_or_else(|e| panic!("{how}: {e}"));
        eprintln!("shrink ({how}): {verdict}");
    }
}

/// F-DELETED: a file and a directory are deleted while the big file before them is packed.
#[test]
fn a_file_or_dir_deleted_mid_walk_is_an_error_or_a_consistent_archive() {
    for victim in ["z-victim.bin", "z-dir"] {
        for (how, pack) in [
            ("library", pack_lib as fn(&Sandbox) -> Ended),
            ("binary", pack_bin),
        ] {
            let sb = Sandbox::materialize(&big_layout(32 << 20)).unwrap();
            let path = sb.model_dir().join(victim);
            let out_dir = sb.root().join("out");
            let deleter = {
                let path = path.clone();
                thread::spawn(move || {
                    if wait_for_partial(&out_dir, 0, Duration::from_secs(30)).is_some() {
                        thread::sleep(Duration::from_millis(20));
                        if path.is_dir() {
                            std::fs::remove_dir_all(&path).unwrap();
                        } else {
                            std::fs::remove_file(&path).unwrap();
                        }
                    }
                })
            };
            let ended = pack(&sb);
            deleter.join().unwrap();
            let verdict = judge_racy(&sb, &ended, &path, None)
                .unwrap_or_else(|e| panic!("{victim} ({how}): {e}"));
            eprintln!("deleted {victim} ({how}): {verdict}");
        }
    }
}

/// Unmounts on drop (lazily, so a failed test cannot leave a busy mount behind).
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn mount(args: &[&str], target: &Path) -> Result<Mount, String> {
    let out = Command::new("mount")
        .args(args)
        .arg(target)
        .output()
        .map_err(|e| format!("cannot run mount: {e}"))?;
    if out.status.success() {
        Ok(Mount(target.to_owned()))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// F-DISKFULL: the output dir is a 256 KiB tmpfs and the archive needs 2 MiB.
#[test]
fn a_full_disk_is_an_error_naming_the_output_and_leaves_nothing() {
    let layout = Layout::new().with(Entry::file(
        Root::Model,
        "weights.bin",
        Content::random(21, 2 << 20),
    ));
    for how in ["library", "binary"] {
        let sb = Sandbox::materialize(&layout).unwrap();
        let out_dir = sb.root().join("out");
        let _m = match mount(&["-t", "tmpfs", "-o", "size=256k", "tmpfs"], &out_dir) {
            Ok(m) => m,
            Err(e) => {
                crate::unavailable::unavailable(
                    "the full-disk case",
                    &format!("cannot mount a small tmpfs: {e}"),
                );
                return;
            }
        };
        let before = sb.digest().unwrap();
        let msg = match how {
            "library" => {
                match ReferencePackager::new().pack_dir(&sb.model_dir(), &sb.output_path()) {
                    Err(e @ PackError::Write { .. }) => e.to_string(),
                    other => panic!("library: {other:?}"),
                }
            }
            _ => {
                let r = run_pack(
                    &sb.model_dir(),
                    &sb.output_path(),
                    &sb.cwd(),
                    &RunOpts::default(),
                );
                assert_eq!(r.code, Some(1), "binary: {}", r.ending());
                String::from_utf8_lossy(&r.stderr).into_owned()
            }
        };
        assert!(
            msg.contains(&*sb.output_path().to_string_lossy()),
            "{how}: {msg}"
        );
        assert!(msg.contains("No space left"), "{how}: {msg}");
        let left: Vec<_> = std::fs::read_dir(&out_dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(
            left.is_empty(),
            "{how}: left in the full output dir: {left:?}"
        );
        assert_eq!(sb.digest().unwrap(), before, "{how}: the sandbox changed");
    }
}

/// F-DISKFULL with `ulimit -f`: RLIMIT_FSIZE of 128 KiB. Unless SIGXFSZ is ignored, the kernel
/// kills the packager outright (no cleanup possible); ignored, the write fails with EFBIG.
#[test]
fn a_file_size_limit_is_an_error_naming_the_output_not_a_sigxfsz_death() {
    let layout = Layout::new().with(Entry::file(
        Root::Model,
        "weights.bin",
        Content::random(22, 2 << 20),
    ));
    let sb = Sandbox::materialize(&layout).unwrap();
    let r = run_pack(
        &sb.model_dir(),
        &sb.output_path(),
        &sb.cwd(),
        &RunOpts {
            fsize_limit: Some(128 << 10),
            ..RunOpts::default()
        },
    );
    assert_eq!(r.code, Some(1), "{}", r.ending());
    let msg = String::from_utf8_lossy(&r.stderr);
    assert!(msg.contains(&*sb.output_path().to_string_lossy()), "{msg}");
    assert!(msg.contains("File too large"), "{msg}");
    let left = std::fs::read_dir(sb.root().join("out")).unwrap().count();
    assert_eq!(left, 0, "files left in the output dir");
}

/// F-READONLY-SRC: the model dir is a read-only bind mount; packing must still work (it writes
/// nothing there).
#[test]
fn a_read_only_model_dir_packs() {
    let sb = Sandbox::materialize(&big_layout(1 << 20)).unwrap();
    let model = sb.model_dir();
    let model_str = model.to_string_lossy().into_owned();
    let _m = match mount(&["--bind", &model_str], &model).and_then(|m| {
        // One guard for the one mount: the remount's own guard must not unmount it.
        mount(&["-o", "remount,bind,ro"], &model).map(|again| {
            std::mem::forget(again);
            m
        })
    }) {
        Ok(m) => m,
        Err(e) => {
            crate::unavailable::unavailable(
                "the read-only model dir case",
                &format!("cannot bind-mount: {e}"),
            );
            return;
        }
    };
    assert!(
        std::fs::write(model.join("probe"), b"x").is_err(),
        "the bind mount is writable"
    );
    ReferencePackager::new()
        .pack_dir(&model, &sb.output_path())
        .unwrap();
    archive_matches_model(&sb.output_path(), &model).unwrap();
    std::fs::remove_file(sb.output_path()).unwrap();
    let r = run_pack(&model, &sb.output_path(), &sb.cwd(), &RunOpts::default());
    assert_eq!(r.code, Some(0), "{}", r.ending());
    archive_matches_model(&sb.output_path(), &model).unwrap();
}

/// Starts `packtest pack` on a 96 MiB model at level 9 and returns once its temp file has
/// data in it.
fn start_big_pack(sb: &Sandbox) -> (std::process::Child, PathBuf) {
    let mut child = pack_command(
        &sb.model_dir(),
        &sb.output_path(),
        &sb.cwd(),
        &RunOpts {
            level: Some(9),
            ..RunOpts::default()
        },
    )
    .spawn()
    .unwrap();
    let partial = wait_for_partial(&sb.root().join("out"), 1, Duration::from_secs(60));
    let Some(partial) = partial else {
        let _ = child.kill();
        panic!("no temp file with data appeared");
    };
    (child, partial)
}

fn signal_layout() -> Layout {
    big_layout(96 << 20)
}

/// SIGKILL mid-write: no cleanup can run, so the only trace is one hidden temp file; never a
/// file at the output path.
#[test]
fn sigkill_mid_write_leaves_only_a_hidden_partial_file() {
    let sb = Sandbox::materialize(&signal_layout()).unwrap();
    let before = sb.digest().unwrap();
    let (mut child, partial) = start_big_pack(&sb);
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let r = wait_child(&mut child, Duration::from_secs(30));
    assert_eq!(r.signal, Some(libc::SIGKILL), "{}", r.ending());
    assert!(
        std::fs::symlink_metadata(sb.output_path()).is_err(),
        "a file appeared at the output path"
    );
    let name = partial.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(partials(&sb.root().join("out")), [name]);
    assert_eq!(std::fs::read_dir(sb.root().join("out")).unwrap().count(), 1);
    assert_eq!(sb.digest().unwrap(), before);
}

/// SIGTERM and SIGINT mid-write: the handler removes the temp file and exits 130, so the
/// output dir is left empty.
#[test]
fn sigterm_and_sigint_mid_write_remove_the_partial_file() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let sb = Sandbox::materialize(&signal_layout()).unwrap();
        let before = sb.digest().unwrap();
        let (mut child, _partial) = start_big_pack(&sb);
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(child.id() as i32, sig) };
        let r = wait_child(&mut child, Duration::from_secs(30));
        assert_eq!(r.code, Some(130), "signal {sig}: {}", r.ending());
        let left: Vec<_> = std::fs::read_dir(sb.root().join("out"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "signal {sig}: left {left:?}");
        assert_eq!(sb.digest().unwrap(), before);
        let msg = String::from_utf8_lossy(&r.stderr);
        assert!(msg.contains("interrupted"), "signal {sig}: {msg}");
    }
}
