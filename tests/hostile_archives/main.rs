//! The hostile-archive corpus (issue 7, part 1): every case in [`cases::cases`] is built at
//! test time and read by the library (`Manifest::read_lenient` + `name_problems`) and by the
//! real binary (`packtest inspect`, JSON and text, and `packtest check --archive`), asserting the exact error class, the exact
//! name-problem classes, the member count and the exit code; that nothing panics or dies by a
//! signal; that each read stays within a time bound and (for the binary) a memory bound; and
//! that nothing is written to disk (the binary runs in an empty cwd with an empty `TMPDIR`,
//! and the archive's own directory must hold only the archive afterwards).
//!
//! `HOSTILE_CASE=name` runs one case. `HOSTILE_DUMP=dir` writes every archive to `dir` (for
//! measuring GNU tar and Python on the same bytes) and runs nothing else.

mod blocks;
mod cases;
mod run;
#[path = "../common/unavailable.rs"]
mod unavailable;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use packtest::archive::{Limits, Manifest};

use cases::{cases, Case};

/// Wall-clock bound for one read (generous: the machine is shared; the slowest case, the
/// 512 MiB bomb, stops after 8 MiB).
const TIME_BOUND: Duration = Duration::from_secs(20);
/// Address-space cap for the binary: a runaway allocation aborts instead of succeeding.
const AS_LIMIT: u64 = 1 << 30;
/// Peak RSS bound for the binary, KiB.
const RSS_BOUND_KIB: i64 = 64 << 10;

fn selected() -> Vec<Case> {
    let only = std::env::var("HOSTILE_CASE").ok();
    cases()
        .into_iter()
        .filter(|c| only.as_deref().is_none_or(|o| o == c.name))
        .collect()
}

fn limits(c: &Case) -> Limits {
    Limits {
        max_unpacked: c.max_unpacked,
        ..Limits::default()
    }
}

#[test]
fn the_table_has_at_least_40_uniquely_named_cases() {
    let all = cases();
    let names: BTreeSet<&str> = all.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), all.len(), "duplicate case names");
    assert!(all.len() >= 40, "only {} cases", all.len());
    // Most cases must be hostile: a clean read is the exception (controls and valid forms).
    let hostile = all.iter().filter(|c| c.expect.exit != 0).count();
    assert!(hostile >= 40, "only {hostile} cases expect exit 1 or 2");
}

/// Reads one case with the library; `Err` describes every mismatch.
fn check_library(c: &Case, bytes: &[u8]) -> Result<Duration, String> {
    let start = Instant::now();
    let read = catch_unwind(AssertUnwindSafe(|| {
        Manifest::read_lenient(bytes, limits(c))
    }));
    let elapsed = start.elapsed();
    let (m, err) = read.map_err(|p| {
        format!(
            "PANICKED: {}",
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )
    })?;
    let problems = catch_unwind(AssertUnwindSafe(|| m.name_problems()))
        .map_err(|_| "name_problems PANICKED".to_string())?;
    let mut bad = Vec::new();
    let class = err.as_ref().map(|e| e.class());
    if class != c.expect.error {
        bad.push(format!(
            "error class {class:?}, expected {:?} ({err:?})",
            c.expect.error
        ));
    }
    let got: Vec<&str> = problems.iter().map(|p| p.class.id()).collect();
    if got != c.expect.problems {
        bad.push(format!(
            "name problems {got:?}, expected {:?}",
            c.expect.problems
        ));
    }
    if m.members.len() != c.expect.members {
        bad.push(format!(
            "{} members, expected {}",
            m.members.len(),
            c.expect.members
        ));
    }
    if let Some(check) = c.check {
        if bad.is_empty() {
            if let Err(e) = check(&m) {
                bad.push(format!("check: {e}"));
            }
        }
    }
    if elapsed > TIME_BOUND {
        bad.push(format!("took {elapsed:?}"));
    }
    if let Some(e) = &err {
        // Every error message says where.
        let msg = e.to_string();
        if !msg.chars().any(|ch| ch.is_ascii_digit()) && !msg.contains('`') {
            bad.push(format!("the message names no offset or path: {msg}"));
        }
    }
    if bad.is_empty() {
        Ok(elapsed)
    } else {
        Err(bad.join("; "))
    }
}

#[test]
fn every_case_reads_to_its_expected_outcome_in_the_library() {
    let mut failures = Vec::new();
    let mut slowest = (Duration::ZERO, "");
    for c in selected() {
        let bytes = (c.build)();
        match check_library(&c, &bytes) {
            Ok(t) => {
                if t > slowest.0 {
                    slowest = (t, c.name);
                }
            }
            Err(e) => failures.push(format!("{} ({}): {e}", c.name, c.about)),
        }
    }
    eprintln!("slowest library read: {} in {:?}", slowest.1, slowest.0);
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The cases whose gzip layer is whole but holds no tar stream (`inspect` says so, exit 2).
const NO_TAR_STREAM: [&str; 2] = ["gzip-nested", "empty-gzip"];

/// Runs `packtest inspect` on one case; `Err` describes every mismatch.
fn check_binary(c: &Case, bytes: &[u8]) -> Result<(Duration, i64), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let cwd = tempfile::tempdir().map_err(|e| e.to_string())?;
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let archive = dir.path().join("model.tar.gz");
    std::fs::write(&archive, bytes).map_err(|e| e.to_string())?;
    let mut args: Vec<&OsStr> = vec![
        OsStr::new("inspect"),
        archive.as_os_str(),
        OsStr::new("--json"),
    ];
    let limit = c.max_unpacked.map(|n| n.to_string());
    if let Some(l) = &limit {
        args.push(OsStr::new("--max-unpacked"));
        args.push(OsStr::new(l));
    }
    let ran = run::run_limited(&args, cwd.path(), tmp.path(), AS_LIMIT, TIME_BOUND);
    let mut bad = Vec::new();
    // A gzip that holds no tar stream at all is bad input to `inspect` (exit 2, one line),
    // though `check` and the library call it a damaged archive.
    let exit = if NO_TAR_STREAM.contains(&c.name) {
        2
    } else {
        c.expect.exit
    };
    if ran.code != Some(exit) {
        bad.push(format!("json: {}, expected exit {exit}", ran.ending()));
    }
    if ran.max_rss_kib > RSS_BOUND_KIB {
        bad.push(format!("peak RSS {} KiB", ran.max_rss_kib));
    }
    if ran.code == Some(2) {
        let e = String::from_utf8_lossy(&ran.stderr);
        if !e.contains(&*archive.to_string_lossy()) {
            bad.push(format!("exit 2 without naming the archive: {e}"));
        }
    } else if ran.code == Some(c.expect.exit) {
        match serde_json::from_slice::<serde_json::Value>(&ran.stdout) {
            Err(e) => bad.push(format!("stdout is not JSON: {e}")),
            Ok(v) => {
                let class = v["error"]["class"].as_str();
                if class != c.expect.error {
                    bad.push(format!(
                        "json error.class {class:?}, expected {:?}",
                        c.expect.error
                    ));
                }
                let probs: Vec<&str> = v["name_problems"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|p| p["class"].as_str()).collect())
                    .unwrap_or_default();
                if probs != c.expect.problems {
                    bad.push(format!(
                        "json name_problems {probs:?}, expected {:?}",
                        c.expect.problems
                    ));
                }
                let n = v["members"].as_array().map_or(usize::MAX, Vec::len);
                if n != c.expect.members {
                    bad.push(format!(
                        "json has {n} members, expected {}",
                        c.expect.members
                    ));
                }
            }
        }
    }
    // The text form, through assert_cmd: same exit code, and no raw control bytes reach the
    // terminal (names are escaped).
    let mut text = assert_cmd::Command::new(run::packtest_bin());
    text.arg("inspect")
        .arg(&archive)
        .current_dir(cwd.path())
        .env("TMPDIR", tmp.path())
        .env_remove("PACKTEST_MAX_UNPACKED")
        .timeout(TIME_BOUND);
    if let Some(l) = &limit {
        text.args(["--max-unpacked", l]);
    }
    let out = text.output().map_err(|e| e.to_string())?;
    if out.status.code() != Some(exit) {
        bad.push(format!("text: {:?}, expected {exit}", out.status));
    }
    for (what, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        if let Some(b) = stream
            .iter()
            .find(|b| (**b < 0x20 && **b != b'\n') || **b == 0x7f)
        {
            bad.push(format!("text {what} has a raw control byte {b:#04x}"));
        }
    }
    // Nothing written anywhere.
    for (what, d) in [("cwd", cwd.path()), ("TMPDIR", tmp.path())] {
        let l = run::listing(d);
        if !l.is_empty() {
            bad.push(format!("{what} is not empty afterwards: {l:?}"));
        }
    }
    let l = run::listing(dir.path());
    if l != [std::path::PathBuf::from("model.tar.gz")] {
        bad.push(format!("the archive's dir changed: {l:?}"));
    }
    if std::fs::read(&archive).ok().as_deref() != Some(bytes) {
        bad.push("the archive itself changed".into());
    }
    if bad.is_empty() {
        Ok((ran.elapsed, ran.max_rss_kib))
    } else {
        Err(bad.join("; "))
    }
}

#[test]
fn every_case_gives_its_expected_outcome_from_packtest_inspect() {
    let mut failures = Vec::new();
    let (mut slowest, mut biggest) = ((Duration::ZERO, ""), (0, ""));
    for c in selected() {
        let bytes = (c.build)();
        match check_binary(&c, &bytes) {
            Ok((t, rss)) => {
                if t > slowest.0 {
                    slowest = (t, c.name);
                }
                if rss > biggest.0 {
                    biggest = (rss, c.name);
                }
            }
            Err(e) => failures.push(format!("{} ({}): {e}", c.name, c.about)),
        }
    }
    eprintln!(
        "slowest inspect: {} in {:?}; largest peak RSS: {} with {} KiB",
        slowest.1, slowest.0, biggest.1, biggest.0
    );
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The findings `check --archive` must give: the tree rules of the case, `archive-damaged` for
/// a framing error, and `unsafe-member-name` for any unsafe member that the tree rules do not
/// already report (escaping symlinks are `symlink-escape`, devices `special-file`); for the
/// default target, `link-in-archive` for any symlink or hard-link member (SageMaker hosting
/// cannot extract one), and `no-model-file` when the archive holds files but none with a name
/// a framework loads (none of the hostile cases' payloads is named like a model).
fn expected_check_codes(c: &Case, m: &Manifest) -> BTreeSet<&'static str> {
    use packtest::archive::MemberKind;
    let mut codes: BTreeSet<&'static str> = c.tree.iter().copied().collect();
    let members = || m.members.iter().filter(|x| !x.is_root_entry());
    if members().any(|x| matches!(x.kind, MemberKind::Symlink | MemberKind::Hardlink)) {
        codes.insert("link-in-archive");
    }
    let model_like = |n: &[u8]| {
        [
            &b".bin"[..],
            b".pt",
            b".pth",
            b".safetensors",
            b".onnx",
            b".h5",
            b".pkl",
            b".joblib",
        ]
        .iter()
        .any(|e| n.ends_with(e))
    };
    let files: Vec<_> = members()
        .filter(|x| {
            matches!(
                x.kind,
                MemberKind::File | MemberKind::Hardlink | MemberKind::Other(_)
            )
        })
        .collect();
    if !files.is_empty()
        && !codes.contains("empty-model-dir")
        && !files.iter().any(|x| model_like(x.path.file_name()))
    {
        codes.insert("no-model-file");
    }
    if c.expect.error.is_some() {
        codes.insert("archive-damaged");
    }
    for p in m.name_problems() {
        let kind = m.members.get(p.index).map(|x| x.kind);
        let covered = p.class == packtest::archive::NameClass::Device
            || (p.class == packtest::archive::NameClass::LinkEscape
                && kind == Some(packtest::archive::MemberKind::Symlink));
        if !covered {
            codes.insert("unsafe-member-name");
        }
    }
    codes
}

/// Runs `packtest check --archive` on one case; `Err` describes every mismatch.
fn check_check(c: &Case, bytes: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let cwd = tempfile::tempdir().map_err(|e| e.to_string())?;
    let archive = dir.path().join("model.tar.gz");
    std::fs::write(&archive, bytes).map_err(|e| e.to_string())?;
    let mut args: Vec<&OsStr> = vec![
        OsStr::new("check"),
        OsStr::new("--archive"),
        archive.as_os_str(),
        OsStr::new("--json"),
    ];
    let limit = c.max_unpacked.map(|n| n.to_string());
    if let Some(l) = &limit {
        args.push(OsStr::new("--max-unpacked"));
        args.push(OsStr::new(l));
    }
    let ran = run::run_limited(&args, cwd.path(), cwd.path(), AS_LIMIT, TIME_BOUND);
    let mut bad = Vec::new();
    if ran.max_rss_kib > RSS_BOUND_KIB {
        bad.push(format!("peak RSS {} KiB", ran.max_rss_kib));
    }
    if c.expect.exit == 2 {
        if ran.code != Some(2) {
            bad.push(format!("{}, expected exit 2", ran.ending()));
        }
    } else {
        let (m, _) = Manifest::read_lenient(bytes, limits(c));
        let want = expected_check_codes(c, &m);
        match (
            ran.code,
            serde_json::from_slice::<serde_json::Value>(&ran.stdout),
        ) {
            (Some(code @ (0 | 1)), Ok(v)) => {
                let findings = v["findings"].as_array().cloned().unwrap_or_default();
                let got: BTreeSet<&str> =
                    findings.iter().filter_map(|f| f["code"].as_str()).collect();
                if got != want {
                    bad.push(format!("findings {got:?}, expected {want:?}"));
                }
                let errors = findings.iter().any(|f| f["severity"] == "error");
                if code != i32::from(errors) {
                    bad.push(format!("exit {code} with error findings: {errors}"));
                }
                if c.expect.exit != 0 && code == 0 {
                    bad.push("a hostile archive passed `check`".into());
                }
                if let Some(class) = c.expect.error {
                    let tagged = findings.iter().any(|f| {
                        f["code"] == "archive-damaged"
                            && f["message"]
                                .as_str()
                                .is_some_and(|m| m.ends_with(&format!("({class})")))
                    });
                    if !tagged {
                        bad.push(format!("no archive-damaged finding of class {class}"));
                    }
                }
            }
            (_, parsed) => bad.push(format!(
                "{} (json: {})",
                ran.ending(),
                parsed
                    .map(|_| "ok".to_string())
                    .unwrap_or_else(|e| e.to_string())
            )),
        }
    }
    if !run::listing(cwd.path()).is_empty() {
        bad.push("the cwd is not empty afterwards".into());
    }
    if run::listing(dir.path()) != [std::path::PathBuf::from("model.tar.gz")] {
        bad.push("the archive's dir changed".into());
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("; "))
    }
}

#[test]
fn every_case_gives_its_expected_findings_from_packtest_check_archive() {
    let mut failures = Vec::new();
    for c in selected() {
        let bytes = (c.build)();
        if let Err(e) = check_check(&c, &bytes) {
            failures.push(format!("{} ({}): {e}", c.name, c.about));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_bombs_really_are_bombs() {
    for name in ["gzip-bomb", "gzip-bomb-members"] {
        let c = cases().into_iter().find(|c| c.name == name).unwrap();
        let bytes = (c.build)();
        let unpacked: u64 = if name == "gzip-bomb" {
            (512 << 20) + 1536
        } else {
            512 + (256 << 22)
        };
        let ratio = unpacked / bytes.len() as u64;
        assert!(ratio > 1000, "{name}: ratio only {ratio}:1");
    }
}

/// `HOSTILE_DUMP=dir cargo test --test hostile_archives dump -- --ignored` writes every case.
#[test]
#[ignore = "writes the corpus to $HOSTILE_DUMP for measuring other readers"]
fn dump() {
    let dir = std::path::PathBuf::from(std::env::var_os("HOSTILE_DUMP").expect("HOSTILE_DUMP"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut index = String::new();
    for c in cases() {
        // GNU tar picks its decompressor from the suffix, so plain tars are `.tar`.
        let bytes = (c.build)();
        let ext = if bytes.starts_with(&[0x1f, 0x8b]) {
            "tar.gz"
        } else {
            "tar"
        };
        std::fs::write(dir.join(format!("{}.{ext}", c.name)), bytes).unwrap();
        index.push_str(&format!(
            "{}\t{}\t{:?}\t{:?}\n",
            c.name, c.expect.exit, c.expect.error, c.expect.problems
        ));
    }
    std::fs::write(dir.join("INDEX.tsv"), index).unwrap();
}

/// A member-count bomb: 1,000,064 empty members named `f` in under 3 MB of gzip, the worst
/// case for memory (each member also yields a `duplicate` name problem). Each member costs
/// the manifest a few hundred bytes, so without a cap a 30 MB archive could claim 10M members
/// and gigabytes. `inspect --json` stops at the default limit (1,000,000), exits 1 with
/// `too-many-members`, and stays under 640 MiB of RSS.
#[test]
fn a_member_count_bomb_stops_at_the_member_limit_in_bounded_memory() {
    if std::env::var("HOSTILE_CASE").is_ok() {
        return;
    }
    // One gzip member of 128 identical headers, repeated: cheap to build, tiny on disk.
    let chunk: Vec<u8> = (0..128)
        .flat_map(|_| blocks::hdr(b"f", b'0', 0).block())
        .collect();
    let member = blocks::gz_level(&chunk, 9);
    let mut bytes = Vec::new();
    for _ in 0..7813 {
        bytes.extend_from_slice(&member);
    }
    bytes.extend(blocks::gz(&[0u8; 1024]));
    assert!(bytes.len() < 16 << 20, "{} bytes", bytes.len());
    let dir = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let archive = dir.path().join("members.tar.gz");
    std::fs::write(&archive, &bytes).unwrap();
    let ran = run::run_limited(
        &[
            OsStr::new("inspect"),
            archive.as_os_str(),
            OsStr::new("--json"),
        ],
        cwd.path(),
        cwd.path(),
        AS_LIMIT,
        Duration::from_secs(120),
    );
    assert_eq!(ran.code, Some(1), "{}", ran.ending());
    assert!(
        ran.max_rss_kib < 640 << 10,
        "peak RSS {} KiB",
        ran.max_rss_kib
    );
    // Only the parts asserted on: a full `Value` of 300 MB of JSON is slow and huge.
    #[derive(serde::Deserialize)]
    struct Error {
        class: String,
    }
    #[derive(serde::Deserialize)]
    struct Partial {
        error: Error,
        members: Vec<serde::de::IgnoredAny>,
    }
    let v: Partial = serde_json::from_slice(&ran.stdout).unwrap();
    assert_eq!(v.error.class, "too-many-members");
    assert_eq!(v.members.len(), 1_000_000);
    assert!(run::listing(cwd.path()).is_empty());
    eprintln!(
        "member-count bomb: {} bytes of gzip, inspect --json {:?}, peak RSS {} KiB",
        bytes.len(),
        ran.elapsed,
        ran.max_rss_kib
    );
}

/// Paths that are not archive files: `inspect` and `check --archive` refuse them with exit 2
/// and a message naming the path, and never hang (regressions: a FIFO without a writer blocked
/// `open` forever, and `/dev/zero` was an endless stream of tar padding).
#[test]
fn special_files_given_as_the_archive_are_refused_without_hanging() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("model.tar.gz");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let dir = d.path().join("a-dir.tar.gz");
    std::fs::create_dir(&dir).unwrap();
    let paths = [
        fifo.as_path(),
        dir.as_path(),
        std::path::Path::new("/dev/zero"),
        std::path::Path::new("/dev/null"),
    ];
    for p in paths {
        for args in [vec!["inspect"], vec!["check", "--archive"]] {
            let out = assert_cmd::Command::new(run::packtest_bin())
                .args(&args)
                .arg(p)
                .current_dir(d.path())
                .timeout(Duration::from_secs(10))
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{args:?} {}: {err}",
                p.display()
            );
            assert!(err.contains(&*p.to_string_lossy()), "{err}");
        }
    }
    // An endless stream of zeros through a pipe ends as trailing garbage, not a hang.
    let mut child = std::process::Command::new(run::packtest_bin())
        .args(["inspect", "/dev/stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let zeros = vec![0u8; 1 << 16];
        while std::io::Write::write_all(&mut stdin, &zeros).is_ok() {}
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("(trailing-garbage)"));
}
