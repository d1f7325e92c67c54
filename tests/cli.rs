//! The binary's `pack`, `inspect` and `run` subcommands, driven with assert_cmd: happy paths,
//! and bad input that must exit 2 with a clear message, never a panic.

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;

fn packtest() -> Command {
    Command::cargo_bin("packtest").expect("the packtest binary is built")
}

fn model_dir(dir: &std::path::Path) -> std::path::PathBuf {
    let m = dir.join("model");
    fs::create_dir_all(m.join("code")).unwrap();
    fs::create_dir_all(m.join("empty")).unwrap();
    fs::write(m.join("model.pt"), b"PK\x03\x04weights").unwrap();
    fs::write(m.join("code/inference.py"), b"def model_fn(d): pass\n").unwrap();
    std::os::unix::fs::symlink("model.pt", m.join("alias.pt")).unwrap();
    m
}

#[test]
fn pack_then_inspect_lists_every_entry() {
    let t = tempfile::tempdir().unwrap();
    let m = model_dir(t.path());
    let out = t.path().join("model.tar.gz");
    packtest()
        .args(["pack", "--target", "posix"])
        .arg(&m)
        .arg("-o")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("packed 2 files"));
    packtest()
        .arg("inspect")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("alias.pt -> model.pt"))
        .stdout(predicate::str::contains("code/inference.py"))
        .stdout(predicate::str::contains("empty"))
        .stdout(predicate::str::contains("5 members"));
}

#[test]
fn inspect_json_has_stable_field_names() {
    let t = tempfile::tempdir().unwrap();
    let m = model_dir(t.path());
    let out = t.path().join("model.tar.gz");
    packtest()
        .arg("pack")
        .arg(&m)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let o = packtest()
        .arg("inspect")
        .arg(&out)
        .arg("--json")
        .output()
        .unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["compression"], "gzip");
    assert_eq!(v["gzip_header"]["mtime"], 0);
    let m0 = &v["members"][0];
    for key in [
        "path",
        "raw_name",
        "kind",
        "mode",
        "uid",
        "gid",
        "mtime",
        "size",
        "sha256",
        "link_target",
        "form",
        "offset",
    ] {
        assert!(m0.get(key).is_some(), "member field `{key}` missing: {m0}");
    }
    assert!(v["error"].is_null());
}

#[test]
fn pack_refuses_a_missing_dir_with_exit_2() {
    let t = tempfile::tempdir().unwrap();
    packtest()
        .arg("pack")
        .arg(t.path().join("nope"))
        .arg("-o")
        .arg(t.path().join("o.tar.gz"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not exist"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn pack_refuses_an_output_inside_the_model_dir_and_writes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let m = model_dir(t.path());
    packtest()
        .arg("pack")
        .arg(&m)
        .arg("-o")
        .arg(m.join("model.tar.gz"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("inside the model dir"));
    assert!(!m.join("model.tar.gz").exists());
}

#[test]
fn pack_refuses_a_missing_output_dir_and_an_output_that_is_a_dir() {
    let t = tempfile::tempdir().unwrap();
    let m = model_dir(t.path());
    packtest()
        .arg("pack")
        .arg(&m)
        .arg("-o")
        .arg(t.path().join("no/such/dir/o.tgz"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not exist"));
    packtest()
        .arg("pack")
        .arg(&m)
        .arg("-o")
        .arg(t.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a directory"));
}

#[test]
fn inspect_refuses_a_non_archive_and_a_missing_file_with_exit_2() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("notes.txt");
    fs::write(
        &f,
        "this is not an archive, just some text that is long enough",
    )
    .unwrap();
    packtest()
        .arg("inspect")
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a gzip or tar archive"));
    packtest()
        .arg("inspect")
        .arg(t.path().join("missing.tar.gz"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot open"));
}

#[test]
fn inspect_reports_a_damaged_archive_with_exit_1() {
    let t = tempfile::tempdir().unwrap();
    let m = model_dir(t.path());
    let out = t.path().join("model.tar.gz");
    packtest()
        .arg("pack")
        .arg(&m)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let mut bytes = fs::read(&out).unwrap();
    let n = bytes.len();
    bytes[n - 6] ^= 0x55;
    fs::write(&out, &bytes).unwrap();
    packtest()
        .arg("inspect")
        .arg(&out)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("gzip-"));
}

#[test]
fn run_on_the_reference_packager_passes_strict_and_is_reproducible() {
    let a = packtest()
        .args([
            "run",
            "--cases",
            "40",
            "--seed",
            "7",
            "--strict",
            "--quiet",
            "--redact",
            "--jobs",
            "1",
            "--no-scenarios",
        ])
        .output()
        .unwrap();
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stdout));
    let b = packtest()
        .args([
            "run",
            "--cases",
            "40",
            "--seed",
            "7",
            "--strict",
            "--quiet",
            "--redact",
            "--jobs",
            "2",
            "--no-scenarios",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&b.stdout)
    );
    assert!(String::from_utf8_lossy(&a.stdout).contains("PASSED (41 passed, 0 failed"));
}

#[test]
fn run_refuses_bad_usage_with_exit_2() {
    packtest()
        .args(["run", "--packager", "tar -C {model_dir}"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("{output}"));
    packtest()
        .args([
            "run",
            "--packager",
            "/no/such/packager {output}",
            "--cases",
            "3",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`/no/such/packager` does not exist",
        ));
    packtest()
        .args(["run", "--cases", "0", "--no-scenarios"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no case to run"));
    packtest()
        .args(["run", "--partition", "3/2"])
        .assert()
        .code(2);
}

#[test]
fn run_exits_1_and_saves_a_replayable_failure() {
    let t = tempfile::tempdir().unwrap();
    let saved = t.path().join("failures");
    // A packager that drops empty directories: `find -type f` lists files only.
    let cmd = "sh -c 'cd \"$1\" && find . -type f -print0 | tar --null -czf \"$2\" -T -' sh {model_dir} {output}";
    let o = packtest()
        .args([
            "run",
            "--cases",
            "30",
            "--seed",
            "3",
            "--quiet",
            "--packager",
            cmd,
            "--save-failures",
        ])
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("[empty-dirs-dropped"), "{text}");
    assert!(text.contains("replay"), "{text}");
    // The baseline (it has an empty dir) fails, stops the run, and its cause is saved.
    let files: Vec<_> = fs::read_dir(&saved)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let toml = fs::read_to_string(&files[0]).unwrap();
    assert!(
        toml.contains("[failure]") && toml.contains("fidelity"),
        "{toml}"
    );
    // Replaying the saved dir fails the same way; the reference packager passes it.
    packtest()
        .args([
            "run",
            "--cases",
            "0",
            "--quiet",
            "--no-scenarios",
            "--packager",
            cmd,
            "--scenarios",
        ])
        .arg(&saved)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "--scenario seed-3-empty-dirs-dropped-baseline",
        ));
    packtest()
        .args([
            "run",
            "--cases",
            "0",
            "--quiet",
            "--no-scenarios",
            "--scenarios",
        ])
        .arg(&saved)
        .assert()
        .success();
}

#[test]
fn materialize_builds_a_saved_failure_or_layout_for_hand_debugging() {
    let t = tempfile::tempdir().unwrap();
    let layout = t.path().join("l.toml");
    fs::write(&layout, "[[entry]]\nroot = \"model\"\npath = \"a/b.bin\"\nkind = \"file\"\ncontent = { text = \"hi\" }\n").unwrap();
    let dir = t.path().join("box");
    packtest()
        .arg("materialize")
        .arg(&layout)
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("opt/ml/model"));
    assert_eq!(fs::read(dir.join("opt/ml/model/a/b.bin")).unwrap(), b"hi");
    // A non-empty directory is refused, and nothing in it is touched.
    packtest()
        .arg("materialize")
        .arg(&layout)
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not empty"));
    let scenario =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/torch-save-to-cwd.toml");
    packtest()
        .arg("materialize")
        .arg(&scenario)
        .arg(t.path().join("s"))
        .assert()
        .success();
    assert!(t.path().join("s/opt/ml/code/model.pt").is_file());
}

#[test]
fn pack_output_is_identical_for_any_thread_count_and_gzip_accepts_it() {
    use packtest::layout::{Content, Entry, Fill, Layout, Root, Sandbox};
    let layout = Layout::new()
        .with(Entry::file(
            Root::Model,
            "w.bin",
            Content::Seeded {
                seed: 1,
                size: 3_500_000,
                fill: Fill::Floats,
            },
        ))
        .with(Entry::file(
            Root::Model,
            "t.txt",
            Content::Seeded {
                seed: 2,
                size: 2_500_000,
                fill: Fill::Text,
            },
        ))
        .with(Entry::file(
            Root::Model,
            "r.bin",
            Content::Seeded {
                seed: 3,
                size: 1_200_000,
                fill: Fill::Random,
            },
        ));
    let sb = Sandbox::materialize(&layout).unwrap();
    let t = tempfile::tempdir().unwrap();
    let mut outs = Vec::new();
    for threads in ["1", "2", "4"] {
        let out = t.path().join(format!("m{threads}.tar.gz"));
        packtest()
            .arg("pack")
            .arg(sb.model_dir())
            .arg("-o")
            .arg(&out)
            .args(["--threads", threads])
            .assert()
            .success();
        outs.push(fs::read(&out).unwrap());
    }
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[0], outs[2]);
    if std::process::Command::new("gzip")
        .arg("--version")
        .output()
        .is_ok()
    {
        let st = std::process::Command::new("gzip")
            .arg("-t")
            .arg(t.path().join("m2.tar.gz"))
            .status()
            .unwrap();
        assert!(st.success(), "gzip -t rejected the output");
    }
    // --format tar writes a plain tar that the reader accepts.
    let plain = t.path().join("m.tar");
    packtest()
        .arg("pack")
        .arg(sb.model_dir())
        .arg("-o")
        .arg(&plain)
        .args(["--format", "tar"])
        .assert()
        .success();
    packtest()
        .arg("inspect")
        .arg(&plain)
        .assert()
        .success()
        .stdout(predicate::str::contains("None"));
}

#[test]
fn a_layout_too_big_for_the_disk_is_refused_with_exit_2_and_nothing_written() {
    let t = tempfile::tempdir().unwrap();
    let toml = t.path().join("huge.toml");
    fs::write(
        &toml,
        "[[entry]]\nroot = \"model\"\npath = \"model.safetensors\"\nkind = \"file\"\n\
         content = { seed = 1, size = 1000000000000000000, fill = \"floats\" }\n",
    )
    .unwrap();
    let dir = t.path().join("box");
    packtest()
        .arg("materialize")
        .arg(&toml)
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the layout needs 1000000000000004096 bytes",
        ))
        .stderr(predicate::str::contains("free"));
    assert!(!dir.exists());
}

/// The archive gets `0666 & !umask`, as `tar -czf` gives, not the temp file's 0600.
#[test]
fn the_archive_mode_follows_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let m = t.path().join("model");
    fs::create_dir_all(&m).unwrap();
    fs::write(m.join("model.pt"), b"PK\x03\x04weights").unwrap();
    for (umask, want) in [("022", 0o644), ("027", 0o640), ("077", 0o600)] {
        let out = t.path().join(format!("m-{umask}.tar.gz"));
        let st = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask} && exec \"$0\" pack \"$1\" -o \"$2\""
            ))
            .arg(env!("CARGO_BIN_EXE_packtest"))
            .arg(&m)
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success());
        let mode = fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, want, "umask {umask}: mode {mode:o}");
    }
}

/// Runs `packtest run ARGS` in `dir` and checks it is refused as bad input: exit 2 within a
/// second, nothing on stdout (no case, no report), one line on stderr; returns that line.
fn refused_at_once(dir: &std::path::Path, args: &[&str]) -> String {
    let start = std::time::Instant::now();
    let o = packtest()
        .arg("run")
        .args(args)
        .current_dir(dir)
        .env_remove("PACKTEST_PACKAGER")
        .env_remove("PACKTEST_CASES")
        .output()
        .unwrap();
    let took = start.elapsed();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        took < std::time::Duration::from_secs(1),
        "{args:?} took {took:?}"
    );
    assert!(
        o.stdout.is_empty(),
        "{args:?} printed a report: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{args:?}: not one line: {err}"
    );
    err
}

#[test]
fn a_packager_path_that_does_not_exist_is_refused_before_any_case() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for (packager, says) in [
        (
            "python3 nosuch.py {model_dir} {output}",
            "python3 script `nosuch.py` does not exist",
        ),
        (
            "sh ./nosuch.sh {model_dir} {output}",
            "sh script `./nosuch.sh` does not exist",
        ),
        ("./nosuch-pack {model_dir} {output}", "does not exist"),
        (
            "/nonexistent/pack {model_dir} {output}",
            "`/nonexistent/pack` does not exist",
        ),
        (
            "nosuch-packager-xyz {model_dir} {output}",
            "`nosuch-packager-xyz` is not on PATH",
        ),
    ] {
        let err = refused_at_once(d, &["--packager", packager, "--cases", "3"]);
        assert!(err.contains(says), "{packager}: {err}");
    }
}

#[test]
fn an_unwritable_report_or_save_destination_is_refused_before_any_case() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // A packager that leaves a mark in the test's dir whenever it runs (and then fails).
    let marker = d.join("ran");
    let packager = format!("sh -c 'touch {}; exit 1' {{output}}", marker.display());
    for args in [
        ["--json", "/nonexistent/r.json"],
        ["--junit", "/nonexistent/r.xml"],
        ["--json", "/proc/r.json"],
        ["--json", "."],
        ["--save-failures", "/nonexistent/saved/here"],
    ] {
        let err = refused_at_once(
            d,
            &[
                &["--packager", packager.as_str(), "--cases", "2"][..],
                &args,
            ]
            .concat(),
        );
        assert!(
            err.contains(args[0]) && err.contains(args[1]),
            "{args:?}: {err}"
        );
        assert!(!marker.exists(), "{args:?}: a case ran");
    }
    // Nothing was left behind, and a --save-failures dir whose parent exists is fine.
    assert_eq!(fs::read_dir(d).unwrap().count(), 0);
    packtest()
        .args([
            "run",
            "--packager",
            &packager,
            "--cases",
            "1",
            "--no-scenarios",
            "--quiet",
        ])
        .arg("--save-failures")
        .arg(d.join("saved"))
        .current_dir(d)
        .assert()
        .code(1);
    assert!(marker.exists() && d.join("saved").is_dir());
}

#[test]
fn one_case_runs_alone_and_an_unknown_scenario_names_the_close_ids() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let err = refused_at_once(d, &["--scenario", "latest-symlink-to-checkpoint"]);
    assert!(
        err.contains("did you mean latest-symlink-to-checkpoint-dir?"),
        "{err}"
    );
    let err = refused_at_once(d, &["--scenario", "zzzz-no-such-id"]);
    assert!(err.contains("packtest scenarios list"), "{err}");
    for conflict in [
        ["--case", "1", "--partition", "1/2"],
        ["--case", "1", "--scenario", "x"],
    ] {
        packtest().arg("run").args(conflict).assert().code(2);
    }
    // --case N needs no --cases above N; --scenario finds a built-in id without naming the dir.
    for (args, name) in [
        (["--case", "300", "--cases", "2"], "case-300"),
        (
            ["--scenario", "dangling-symlink", "--cases", "2"],
            "scenario:dangling-symlink",
        ),
    ] {
        packtest()
            .arg("run")
            .args(args)
            .args(["--quiet", "--json", "r.json"])
            .current_dir(d)
            .assert()
            .success();
        let r: serde_json::Value =
            serde_json::from_slice(&fs::read(d.join("r.json")).unwrap()).unwrap();
        let names: Vec<&str> = r["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names, [name], "{args:?}");
    }
}

#[test]
fn a_timeout_names_the_limit_and_the_flag() {
    let t = tempfile::tempdir().unwrap();
    let o = packtest()
        .args([
            "run",
            "--packager",
            "sh -c 'sleep 30' {output}",
            "--case",
            "0",
        ])
        .args(["--timeout", "0.3", "--no-shrink", "--quiet"])
        .current_dir(t.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("killed after 0.3 s") && text.contains("--timeout SECS"),
        "{text}"
    );
}

/// A packager that hangs is never silent until its timeout: with stderr not a terminal, a
/// line says no case has finished for 10 s and names the limit and `--timeout`.
#[test]
fn a_hung_packager_gets_a_stall_notice_before_its_timeout() {
    let t = tempfile::tempdir().unwrap();
    let o = packtest()
        .args([
            "run",
            "--packager",
            "sh -c 'sleep 60' {output}",
            "--case",
            "0",
        ])
        .args(["--timeout", "11", "--no-shrink"])
        .current_dir(t.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no case has finished for 10 s (0 of 1 done)")
            && err.contains("killed after 11 s")
            && err.contains("--timeout SECS"),
        "{err}"
    );
}
