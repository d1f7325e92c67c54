//! The parallel inflate, through the real binary: `inspect` of an archive written by packtest's
//! own writer (a sync point every 1 MiB of input, so segments are inflated on several threads)
//! prints the same listing, the same error and the same exit code as the one-thread reader
//! (`PACKTEST_INFLATE_THREADS=1`), whole and damaged.

use assert_cmd::Command;
use packtest::layout::{Content, Entry, Fill, Layout, Root, Sandbox};

fn inspect(archive: &std::path::Path, threads: &str) -> (Option<i32>, String, String) {
    let out = Command::cargo_bin("packtest")
        .unwrap()
        .env("PACKTEST_INFLATE_THREADS", threads)
        .arg("inspect")
        .arg(archive)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn inspect_is_the_same_with_one_inflate_thread_or_several() {
    let mut layout = Layout::new();
    for (i, fill) in [Fill::Floats, Fill::Text, Fill::Random, Fill::Floats]
        .into_iter()
        .enumerate()
    {
        layout = layout.with(Entry::file(
            Root::Model,
            format!("part-{i}.bin").as_str(),
            Content::Seeded {
                seed: i as u64,
                size: 3 << 20,
                fill,
            },
        ));
    }
    let parent = tempfile::tempdir().unwrap();
    let sb = Sandbox::materialize_in(parent.path(), &layout).unwrap();
    let archive = parent.path().join("model.tar.gz");
    Command::cargo_bin("packtest")
        .unwrap()
        .arg("pack")
        .arg(sb.model_dir())
        .arg("-o")
        .arg(&archive)
        .assert()
        .success();
    let whole = std::fs::read(&archive).unwrap();

    let one = inspect(&archive, "1");
    assert_eq!(one.0, Some(0), "{}", one.2);
    assert!(one.1.contains("part-3.bin"), "{}", one.1);
    for threads in ["2", "4"] {
        assert_eq!(inspect(&archive, threads), one, "{threads} threads");
    }

    // Damaged in the middle of the fifth 1 MiB block, then cut short there.
    let at = whole.len() / 3;
    let mut flipped = whole.clone();
    flipped[at] ^= 0x5a;
    std::fs::write(&archive, &flipped).unwrap();
    let one = inspect(&archive, "1");
    assert_ne!(one.0, Some(0), "a flipped byte goes unnoticed: {}", one.1);
    assert_eq!(inspect(&archive, "2"), one);

    std::fs::write(&archive, &whole[..at]).unwrap();
    let one = inspect(&archive, "1");
    assert!(one.1.contains("truncated"), "{}", one.1);
    assert_eq!(inspect(&archive, "2"), one);
}
