//! Ctrl-C during a run: packtest stops within seconds, exits 130, kills the packager's whole
//! process group, and leaves no sandbox behind.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn count_procs_with(marker: &str) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmd).contains(marker) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn ctrl_c_kills_packagers_and_removes_every_sandbox() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = format!("packtest-interrupt-{}", std::process::id());
    // The packager forks a child that would outlive it, then hangs.
    let cmd = format!("sh -c 'sh -c \"sleep 300; : {marker}\" & sleep 301; : {marker}' {{output}}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_packtest"))
        .args([
            "run",
            "--cases",
            "8",
            "--seed",
            "1",
            "--jobs",
            "2",
            "--timeout",
            "600",
            "--quiet",
            "--packager",
            &cmd,
        ])
        .env("PACKTEST_TMPDIR", tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the packagers are running.
    let start = Instant::now();
    while count_procs_with(&marker) < 2 && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(count_procs_with(&marker) >= 1, "the packager never started");
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "packtest did not stop after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(count_procs_with(&marker), 0, "packager processes survived");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "sandboxes left behind: {left:?}");
}
