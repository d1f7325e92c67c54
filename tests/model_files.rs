//! Model-file integrity on files the real libraries write (safetensors, numpy, h5py, onnx,
//! xgboost, scikit-learn, joblib; a `torch.save` layout by `zipfile`, see
//! `tests/formats/make_models.py`), from the pinned venv `tests/formats/formats-venv.sh` makes
//! (target/formats-venv, or `PACKTEST_FORMATS_PYTHON`):
//!
//! - every intact file gives no integrity finding, from the model dir and from a `.tar.gz` of
//!   it read as a stream;
//! - every model file cut at 5 pseudo-random points (fixed seed) gives `model-file-truncated`,
//!   both ways, except files whose tail the readers say they did not verify (listed in the
//!   snapshot with why);
//! - a flipped byte in a zip's entry data, local name or central directory name gives
//!   `model-file-corrupt`;
//! - a pickle whose `__reduce__` calls `os.system` (and `eval`, `exec`, `subprocess`) gives
//!   `unsafe-pickle`, and every file the real `picklescan` flags does too; every
//!   disagreement between the two scanners is explained in `snapshots/model_files_picklescan.snap`.
//!
//! Without the venv the tests fail under `CI=true` and say so elsewhere.

#[path = "common/unavailable.rs"]
mod unavailable;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use packtest::detect::{Code, JobDirs};

/// One model dir the generator wrote.
#[derive(serde::Deserialize)]
struct Case {
    dir: String,
    files: Vec<String>,
    zip: BTreeMap<String, Vec<Span>>,
}

/// A byte range of a zip.
#[derive(serde::Deserialize)]
struct Span {
    what: String,
    start: u64,
    len: u64,
}

/// picklescan's verdict on one file.
#[derive(serde::Deserialize)]
struct Verdict {
    dangerous: Vec<String>,
    scan_err: bool,
}

struct Corpus {
    root: PathBuf,
    _tmp: tempfile::TempDir,
    cases: Vec<Case>,
    picklescan: BTreeMap<String, Verdict>,
}

fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PACKTEST_FORMATS_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/formats-venv/bin/python3");
    p.is_file().then_some(p)
}

/// The generated files, made once per test binary; `None` (after saying so) without the venv.
fn corpus() -> Option<&'static Corpus> {
    static C: OnceLock<Option<Corpus>> = OnceLock::new();
    C.get_or_init(|| {
        let Some(py) = python() else {
            unavailable::unavailable(
                "model-file integrity on real-library files",
                "no target/formats-venv: run tests/formats/formats-venv.sh",
            );
            return None;
        };
        let tmp = tempfile::tempdir().expect("tempdir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/formats/make_models.py");
        let out = Command::new(py)
            .arg(&script)
            .arg(tmp.path())
            .output()
            .expect("run make_models.py");
        assert!(
            out.status.success(),
            "make_models.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let read = |n: &str| std::fs::read(tmp.path().join(n)).expect(n);
        let cases: Vec<Case> = serde_json::from_slice(&read("manifest.json")).expect("manifest");
        let picklescan = serde_json::from_slice(&read("picklescan.json")).expect("picklescan");
        Some(Corpus {
            root: tmp.path().to_path_buf(),
            _tmp: tmp,
            cases,
            picklescan,
        })
    })
    .as_ref()
}

/// Snapshots live in `snapshots/`, named without the test binary's prefix.
fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

fn is_integrity(c: Code) -> bool {
    matches!(
        c,
        Code::ModelFileTruncated | Code::ModelFileCorrupt | Code::UnsafePickle
    )
}

/// Integrity findings (code, path) for a model dir.
fn dir_findings(dir: &Path) -> Vec<(Code, String)> {
    let dirs = JobDirs {
        model_dir: dir.to_path_buf(),
        cwd: None,
        output_data_dir: None,
        checkpoints: None,
        tmp: None,
    };
    packtest::detect::detect(&dirs, &Default::default())
        .expect("detect")
        .into_iter()
        .filter(|f| is_integrity(f.code))
        .map(|f| (f.code, f.path.map(|p| p.to_string()).unwrap_or_default()))
        .collect()
}

/// Integrity findings for a `.tar.gz` of the model dir, read as a stream.
fn archive_findings(dir: &Path) -> Vec<(Code, String)> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut b = tar::Builder::new(&mut gz);
        b.append_dir_all(".", dir).expect("tar");
        b.finish().expect("tar");
    }
    let bytes = gz.finish().expect("gzip");
    let mut tap = packtest::detect::IntegrityTap::new();
    let (m, err) = packtest::archive::Manifest::read_tapped(
        std::io::Cursor::new(bytes),
        Default::default(),
        &mut tap,
    );
    assert!(err.is_none(), "{err:?}");
    packtest::detect::archive_integrity(&m, &tap.finish())
        .into_iter()
        .filter(|f| is_integrity(f.code))
        .map(|f| (f.code, f.path.map(|p| p.to_string()).unwrap_or_default()))
        .collect()
}

/// A copy of a case's dir, with `edit` applied to the bytes of `rel`.
fn edited(
    c: &Corpus,
    case: &Case,
    rel: &str,
    edit: impl FnOnce(&mut Vec<u8>),
) -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    for e in walkdir::WalkDir::new(c.root.join(&case.dir)).min_depth(1) {
        let e = e.expect("walk");
        let to = t.path().join(
            e.path()
                .strip_prefix(c.root.join(&case.dir))
                .expect("under"),
        );
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&to).expect("mkdir");
        } else {
            std::fs::copy(e.path(), &to).expect("copy");
        }
    }
    let p = t.path().join(rel);
    let mut b = std::fs::read(&p).expect("read");
    edit(&mut b);
    std::fs::write(&p, b).expect("write");
    t
}

/// Five cut lengths in 1..len, from a fixed xorshift seeded by the file's name.
fn cuts(name: &str, len: u64) -> Vec<u64> {
    let mut x = name.bytes().fold(0x9E37_79B9_7F4A_7C15u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
    });
    (0..5)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            1 + x % (len - 1)
        })
        .collect()
}

/// What the readers say they did not verify in an intact file (its tail is then not cut).
fn unverified(path: &Path) -> Vec<String> {
    let head = std::fs::read(path).expect("read");
    let name = path.file_name().expect("name").as_encoded_bytes();
    match packtest::formats::Kind::guess(name, &head[..head.len().min(4096)]) {
        Some(k) => packtest::formats::check(k, &head[..], head.len() as u64)
            .map(|r| r.unverified)
            .unwrap_or_default(),
        None => Vec::new(),
    }
}

#[test]
fn intact_files_give_no_integrity_finding() {
    let Some(c) = corpus() else { return };
    let mut n = 0;
    for case in c.cases.iter().filter(|k| k.dir.starts_with("intact/")) {
        let dir = c.root.join(&case.dir);
        assert_eq!(dir_findings(&dir), vec![], "{}", case.dir);
        assert_eq!(archive_findings(&dir), vec![], "{} as an archive", case.dir);
        n += case.files.len();
    }
    assert!(n >= 20, "only {n} intact files");
    eprintln!("{n} intact files: 0 integrity findings");
}

#[test]
fn every_cut_is_model_file_truncated() {
    let Some(c) = corpus() else { return };
    let mut lines = Vec::new();
    let (mut found, mut total) = (0, 0);
    for case in c.cases.iter().filter(|k| k.dir.starts_with("intact/")) {
        for rel in &case.files {
            let path = c.root.join(&case.dir).join(rel);
            let skip = unverified(&path);
            if !skip.is_empty() {
                lines.push(format!(
                    "{}/{rel}: not cut, the readers do not verify its tail: {}",
                    case.dir,
                    skip.join("; ")
                ));
                continue;
            }
            let len = std::fs::metadata(&path).expect("stat").len();
            let mut got = 0;
            for cut in cuts(rel, len) {
                let t = edited(c, case, rel, |b| b.truncate(cut as usize));
                let d = dir_findings(t.path());
                let a = archive_findings(t.path());
                let hit = |f: &[(Code, String)]| {
                    f.iter().any(|(code, _)| *code == Code::ModelFileTruncated)
                };
                if hit(&d) && hit(&a) {
                    got += 1;
                } else {
                    lines.push(format!(
                        "MISSED {}/{rel} cut at {cut} of {len}: dir {d:?}, archive {a:?}",
                        case.dir
                    ));
                }
            }
            found += got;
            total += 5;
            lines.push(format!("{}/{rel}: {got}/5 cuts found", case.dir));
        }
    }
    lines.push(format!("total: {found}/{total} cuts found"));
    let text = lines.join("\n");
    eprintln!("{text}");
    assert_eq!(found, total, "{text}");
    settings().bind(|| insta::assert_snapshot!("model_files_cuts", text));
}

#[test]
fn every_flipped_zip_record_is_model_file_corrupt() {
    let Some(c) = corpus() else { return };
    let mut lines = Vec::new();
    let (mut found, mut total) = (0, 0);
    for case in c.cases.iter().filter(|k| k.dir.starts_with("intact/")) {
        for (rel, spans) in &case.zip {
            for s in spans {
                let at = (s.start + s.len / 2) as usize;
                let t = edited(c, case, rel, |b| b[at] ^= 0xff);
                let d = dir_findings(t.path());
                let a = archive_findings(t.path());
                let hit = |f: &[(Code, String)]| {
                    f.iter().any(|(code, _)| *code == Code::ModelFileCorrupt)
                };
                total += 1;
                if hit(&d) && hit(&a) {
                    found += 1;
                    lines.push(format!("{}/{rel}: byte {at} ({}): found", case.dir, s.what));
                } else {
                    lines.push(format!(
                        "MISSED {}/{rel}: byte {at} ({}): dir {d:?}, archive {a:?}",
                        case.dir, s.what
                    ));
                }
            }
        }
    }
    lines.push(format!("total: {found}/{total} flips found"));
    let text = lines.join("\n");
    assert_eq!(found, total, "{text}");
    settings().bind(|| insta::assert_snapshot!("model_files_flips", text));
}

#[test]
fn unsafe_pickles_agree_with_picklescan() {
    let Some(c) = corpus() else { return };
    let mut lines = Vec::new();
    let (mut agree, mut differ) = (0, 0);
    for case in &c.cases {
        let dir = c.root.join(&case.dir);
        let ours = dir_findings(&dir);
        for rel in &case.files {
            let key = format!("{}/{rel}", case.dir);
            let theirs = &c.picklescan[&key];
            let flagged = ours
                .iter()
                .any(|(code, p)| *code == Code::UnsafePickle && p == rel);
            let imports = imports_of(&dir.join(rel));
            if !theirs.dangerous.is_empty() {
                assert!(
                    flagged,
                    "picklescan flags {key} ({:?}), packtest does not",
                    theirs.dangerous
                );
            }
            if key.contains("os-system") {
                assert!(
                    flagged,
                    "{key}: a pickle that calls os.system must be unsafe-pickle"
                );
            }
            let same = flagged != theirs.dangerous.is_empty() && !theirs.scan_err;
            let why = match (flagged, theirs.dangerous.is_empty(), theirs.scan_err) {
                (true, false, _) | (false, true, false) => "agree".to_string(),
                (true, true, _) => format!(
                    "differ: packtest flags {} (not on its safe list); picklescan calls a global on neither list suspicious, not dangerous",
                    imports.join(", ")
                ),
                (false, true, true) => "differ: both pass it, but picklescan reports a scan error: joblib writes arrays' raw bytes inside the pickle stream; picklescan stops there with an error, packtest stops there and says the rest is not verified (a global after the first inline array is missed by both)".into(),
                (false, false, _) => unreachable!("asserted above"),
            };
            if same {
                agree += 1
            } else {
                differ += 1
            }
            lines.push(format!(
                "{key}: picklescan {:?}{}; packtest {}: {why}",
                theirs.dangerous,
                if theirs.scan_err { " (scan error)" } else { "" },
                if flagged { "unsafe-pickle" } else { "-" }
            ));
        }
    }
    lines.push(format!("total: {agree} agree, {differ} differ"));
    let text = lines.join("\n");
    settings().bind(|| insta::assert_snapshot!("model_files_picklescan", text));
}

/// The unsafe imports packtest lists for a file.
fn imports_of(path: &Path) -> Vec<String> {
    let b = std::fs::read(path).expect("read");
    let name = path.file_name().expect("name").as_encoded_bytes();
    let Some(k) = packtest::formats::Kind::guess(name, &b[..b.len().min(4096)]) else {
        return Vec::new();
    };
    packtest::formats::check(k, &b[..], b.len() as u64)
        .map(|r| {
            r.unsafe_imports()
                .map(|i| format!("{}.{}", i.module, i.name))
                .collect()
        })
        .unwrap_or_default()
}
