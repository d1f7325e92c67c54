//! `packtest diff A B` and `packtest pack --mtime`, driven with assert_cmd: the exit codes
//! (0 same, 1 different, 2 unreadable), the text and JSON forms, and the fixed and clamped
//! mtimes `diff` shows.

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};

fn packtest() -> Command {
    Command::cargo_bin("packtest").expect("the packtest binary is built")
}

fn model_dir(dir: &Path, weights: &[u8]) -> PathBuf {
    let m = dir.join("model");
    fs::create_dir_all(m.join("code")).unwrap();
    fs::write(m.join("model.pt"), weights).unwrap();
    fs::write(m.join("code/inference.py"), b"def model_fn(d): pass\n").unwrap();
    m
}

fn pack(model: &Path, out: &Path, extra: &[&str]) {
    packtest()
        .arg("pack")
        .arg(model)
        .arg("-o")
        .arg(out)
        .args(extra)
        .env_remove("SOURCE_DATE_EPOCH")
        .assert()
        .success();
}

#[test]
fn the_same_archive_is_exit_0_and_a_fixed_mtime_names_every_member() {
    let t = tempfile::tempdir().unwrap();
    let m = model_dir(t.path(), b"weights");
    let (a, b, c) = (
        t.path().join("a.tgz"),
        t.path().join("b.tgz"),
        t.path().join("c.tgz"),
    );
    pack(&m, &a, &[]);
    pack(&m, &b, &[]);
    pack(&m, &c, &["--mtime", "1700000000"]);
    packtest()
        .args(["diff"])
        .arg(&a)
        .arg(&b)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("same: byte-identical archives"));
    let out = packtest().arg("diff").arg(&a).arg(&c).assert().code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for member in ["`code`", "`code/inference.py`", "`model.pt`"] {
        assert!(text.contains(&format!("~ {member}")), "{text}");
    }
    assert_eq!(text.matches("mtime: 0 -> 1700000000").count(), 3, "{text}");
    assert!(text.contains("different: 3 members differ"), "{text}");
}

#[test]
fn content_differences_name_the_first_differing_byte_in_text_and_json() {
    let t = tempfile::tempdir().unwrap();
    let mut w = vec![b'x'; 100_000];
    let m1 = model_dir(&t.path().join("1"), &w);
    w[70_000] = b'y';
    let m2 = model_dir(&t.path().join("2"), &w);
    let (a, b) = (t.path().join("a.tgz"), t.path().join("b.tgz"));
    pack(&m1, &a, &[]);
    pack(&m2, &b, &[]);
    packtest()
        .arg("diff")
        .arg(&a)
        .arg(&b)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("(first difference at byte 70000)"));
    let out = packtest()
        .arg("diff")
        .arg("--json")
        .arg(&a)
        .arg(&b)
        .assert()
        .code(1);
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["same"], false);
    let members = v["members"].as_array().unwrap();
    assert_eq!(members.len(), 1, "{v}");
    assert_eq!(members[0]["path"], "model.pt");
    assert_eq!(members[0]["first_difference"], 70_000);
    assert_eq!(members[0]["changes"][0]["field"], "sha256");
    assert_eq!(v["gzip"], serde_json::json!([]));
}

#[test]
fn an_unreadable_archive_is_exit_2() {
    let t = tempfile::tempdir().unwrap();
    let m = model_dir(t.path(), b"w");
    let a = t.path().join("a.tgz");
    pack(&m, &a, &[]);
    let junk = t.path().join("junk.tgz");
    fs::write(&junk, b"this is not an archive").unwrap();
    packtest()
        .arg("diff")
        .arg(&a)
        .arg(&junk)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("junk.tgz"));
    packtest()
        .arg("diff")
        .arg(&a)
        .arg(t.path().join("missing.tgz"))
        .assert()
        .code(2);
}

/// `--clamp-mtime` keeps an older file's own mtime and clamps a newer one; without it every
/// member gets the time; `SOURCE_DATE_EPOCH` is the default of `--mtime`.
#[test]
fn mtime_fixed_clamped_and_from_source_date_epoch() {
    let t = tempfile::tempdir().unwrap();
    let m = model_dir(t.path(), b"w");
    let old = filetime_set(&m.join("model.pt"), 1_000);
    assert_eq!(old, 1_000);
    let mtimes = |extra: &[&str], sde: Option<&str>| -> Vec<(String, i64)> {
        let out = t.path().join("o.tgz");
        let mut c = packtest();
        c.arg("pack").arg(&m).arg("-o").arg(&out).args(extra);
        match sde {
            Some(v) => c.env("SOURCE_DATE_EPOCH", v),
            None => c.env_remove("SOURCE_DATE_EPOCH"),
        };
        c.assert().success();
        let o = packtest()
            .args(["inspect", "--json"])
            .arg(&out)
            .assert()
            .success();
        let v: serde_json::Value = serde_json::from_slice(&o.get_output().stdout).unwrap();
        v["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["path"].as_str().unwrap().to_owned(),
                    m["mtime"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let all = |v: &[(String, i64)], t: i64| v.iter().all(|(_, m)| *m == t);
    assert!(all(&mtimes(&[], None), 0));
    assert!(all(&mtimes(&["--mtime", "5000"], None), 5000));
    assert!(all(&mtimes(&[], Some("6000")), 6000));
    let clamped = mtimes(&["--mtime", "5000", "--clamp-mtime"], None);
    for (path, mtime) in &clamped {
        let want = if path == "model.pt" { 1_000 } else { 5000 };
        assert_eq!(*mtime, want, "{path}: {clamped:?}");
    }
    packtest()
        .arg("pack")
        .arg(&m)
        .arg("-o")
        .arg(t.path().join("x.tgz"))
        .arg("--clamp-mtime")
        .env_remove("SOURCE_DATE_EPOCH")
        .assert()
        .code(2);
}

/// Sets a file's mtime (seconds) and returns what it reads back.
fn filetime_set(path: &Path, secs: i64) -> i64 {
    use std::os::unix::fs::MetadataExt;
    let f = fs::File::options().write(true).open(path).unwrap();
    f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64))
        .unwrap();
    fs::metadata(path).unwrap().mtime()
}
