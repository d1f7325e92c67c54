//! Large content streams: materializing, packing and reading a 256 MiB file keeps the
//! process's peak RSS far below the file size. One test in its own binary, so the
//! high-water mark is this test's alone.

use packtest::archive::{DiskTree, Limits, Manifest};
use packtest::layout::{Content, Entry, Fill, Layout, Root, Sandbox};
use packtest::ReferencePackager;

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

#[test]
fn a_256_mib_file_is_materialized_packed_and_read_in_bounded_memory() {
    const SIZE: u64 = 256 << 20;
    let before = peak_rss_kib();
    let layout = Layout::new().with(Entry::file(
        Root::Model,
        "weights.bin",
        Content::Seeded {
            seed: 1,
            size: SIZE,
            fill: Fill::Floats,
        },
    ));
    // On disk, not tmpfs: the point is our own memory, not the page cache.
    let parent = tempfile::tempdir().unwrap();
    let sb = Sandbox::materialize_in(parent.path(), &layout).unwrap();
    assert_eq!(
        std::fs::metadata(sb.model_dir().join("weights.bin"))
            .unwrap()
            .len(),
        SIZE
    );
    let out = sb.root().join("out/model.tar.gz");
    ReferencePackager::for_target(packtest::target::Target::Posix)
        .pack_dir(&sb.model_dir(), &out)
        .unwrap();
    let m = Manifest::read_path(&out, Limits::default()).unwrap();
    assert!(DiskTree::scan(&sb.model_dir()).unwrap().diff(&m).is_empty());
    let grew_mib = (peak_rss_kib().saturating_sub(before)) / 1024;
    assert!(
        grew_mib < 96,
        "peak RSS grew by {grew_mib} MiB for a 256 MiB file"
    );
}
