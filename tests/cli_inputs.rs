//! Inputs of `materialize`, `scenarios show`, `inspect` and `unpack` through the binary: a
//! built-in scenario id where a file was expected, an unknown id, and files that are not
//! tar archives, each bad input an exit 2 with one line that says what to fix.

use assert_cmd::Command;
use predicates::prelude::*;

fn bin() -> Command {
    Command::cargo_bin("packtest").unwrap()
}

#[test]
fn materialize_takes_a_built_in_scenario_id() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("sb");
    bin()
        .arg("materialize")
        .arg("symlink-to-dataset")
        .arg(&root)
        .assert()
        .success()
        .stdout(predicate::str::contains("opt/ml/model"));
    assert!(root.join("opt/ml/model").is_dir());
}

#[test]
fn an_unknown_scenario_id_is_bad_input_that_names_scenarios_list() {
    let d = tempfile::tempdir().unwrap();
    for args in [
        vec![
            "materialize",
            "no-such-scenario",
            d.path().to_str().unwrap(),
        ],
        vec!["scenarios", "show", "no-such-scenario"],
    ] {
        let a = bin().args(&args).assert().code(2).stdout("");
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains("no scenario `no-such-scenario`")
                && err.contains("`packtest scenarios list`"),
            "{args:?}: {err}"
        );
    }
}

/// Files that are whole gzip streams but hold no tar stream: `hello` gzipped, and a single
/// file longer than a tar header gzipped on its own.
fn gzip_without_tar(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    use std::io::Write;
    let gz = |name: &str, data: &[u8]| {
        let p = dir.join(name);
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        std::fs::write(&p, e.finish().unwrap()).unwrap();
        p
    };
    vec![
        gz("x.tar.gz", b"hello\n"),
        // A single file gzipped on its own, longer than a tar header.
        gz("weights.bin.gz", &[7u8; 5000]),
    ]
}

#[test]
fn inspect_and_unpack_say_a_gzip_holds_no_tar_stream() {
    let d = tempfile::tempdir().unwrap();
    for f in gzip_without_tar(d.path()) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        for cmd in ["inspect", "unpack"] {
            let mut c = bin();
            c.arg(cmd).arg(&f);
            if cmd == "unpack" {
                c.arg(d.path().join(format!("out-{name}")));
            }
            let a = c.assert().code(2);
            let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
            assert_eq!(err.trim_end().lines().count(), 1, "{cmd} {name}: {err}");
            assert!(
                err.contains(&format!(
                    "`{}` is a gzip file but holds no tar stream",
                    f.display()
                )),
                "{cmd} {name}: {err}"
            );
        }
    }
}

#[test]
fn inspect_and_unpack_refuse_a_file_that_is_neither_gzip_nor_tar() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("notes.txt");
    std::fs::write(&f, "not an archive\n").unwrap();
    for cmd in ["inspect", "unpack"] {
        let mut c = bin();
        c.arg(cmd).arg(&f);
        if cmd == "unpack" {
            c.arg(d.path().join("out"));
        }
        let a = c.assert().code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert_eq!(err.trim_end().lines().count(), 1, "{cmd}: {err}");
        assert!(err.contains("not a gzip or tar archive"), "{cmd}: {err}");
    }
}

/// An archive damaged in its gzip layer (cut short, a wrong CRC) stays a damaged archive
/// (exit 1), not bad input.
#[test]
fn a_cut_tar_gz_is_still_damaged_not_bad_input() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("a.bin"), vec![1u8; 100_000]).unwrap();
    let full = d.path().join("full.tar.gz");
    assert!(std::process::Command::new("tar")
        .arg("-czf")
        .arg(&full)
        .arg("-C")
        .arg(&src)
        .arg(".")
        .status()
        .unwrap()
        .success());
    let bytes = std::fs::read(&full).unwrap();
    let cut = d.path().join("cut.tar.gz");
    std::fs::write(&cut, &bytes[..30]).unwrap();
    bin()
        .arg("inspect")
        .arg(&cut)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("gzip-truncated"));
    // A gzip of a few bytes whose CRC32 is wrong: the tar layer stops first (6 bytes, less
    // than a header), but the gzip layer is damaged, so it is not called "no tar stream".
    let hello = gzip_without_tar(d.path()).remove(0);
    let mut bytes = std::fs::read(&hello).unwrap();
    let crc = bytes.len() - 8;
    bytes[crc] ^= 0xff;
    std::fs::write(&hello, &bytes).unwrap();
    for cmd in ["inspect", "unpack"] {
        let mut c = bin();
        c.arg(cmd).arg(&hello);
        if cmd == "unpack" {
            c.arg(d.path().join("out-crc"));
        }
        let a = c.assert().code(1);
        let out = a.get_output();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains("holds no tar stream"), "{cmd}: {text}");
    }
}
