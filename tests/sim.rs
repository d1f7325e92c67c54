//! `packtest sim` end to end: small real training scripts (Python, standard library only) run
//! in an emulated job; the findings are snapshotted.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn sim(script: &str) -> assert_cmd::assert::Assert {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sim")
        .join(script);
    Command::cargo_bin("packtest")
        .unwrap()
        .args(["sim", "--", "python3"])
        .arg(path)
        .assert()
}

fn snapshot(name: &str, out: &[u8]) {
    let text = packtest::layout::redact_paths(&String::from_utf8_lossy(out));
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("job: ") {
                "job: [exit and time]"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn torch_save_to_cwd_reports_model_saved_outside_and_an_empty_archive() {
    let a = sim("torch_save_cwd.py")
        .code(1)
        .stdout(predicate::str::contains(
            "error   model-saved-outside cwd:model.pt",
        ))
        .stdout(predicate::str::contains("EMPTY"));
    snapshot("sim_torch_save_cwd", &a.get_output().stdout);
}

#[test]
fn a_correct_save_is_clean() {
    let a = sim("correct_save.py")
        .success()
        .stdout(predicate::str::contains("0 errors"));
    snapshot("sim_correct_save", &a.get_output().stdout);
}

#[test]
fn a_tf_export_without_a_version_dir_is_an_error() {
    let a = sim("tf_export_unversioned.py")
        .code(1)
        .stdout(predicate::str::contains("savedmodel-unversioned"));
    snapshot("sim_tf_export_unversioned", &a.get_output().stdout);
}

#[test]
fn writing_only_checkpoints_leaves_the_model_dir_empty() {
    let a = sim("only_checkpoints.py")
        .code(1)
        .stdout(predicate::str::contains("empty-model-dir"));
    snapshot("sim_only_checkpoints", &a.get_output().stdout);
}

#[test]
fn a_failing_job_reports_its_exit_code_and_failure_file() {
    sim("crashes.py")
        .code(1)
        .stdout(predicate::str::contains("exit code 3"))
        .stdout(predicate::str::contains("CUDA out of memory"));
}

#[test]
fn bad_input_exits_2() {
    let bin = || Command::cargo_bin("packtest").unwrap();
    bin()
        .args(["sim", "--", "/no/such/trainer"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be started"));
    bin()
        .args(["sim", "--framework", "caffe", "--", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("possible values: pytorch"));
    bin()
        .args(["sim", "--input", "train=/no/such/dir", "--", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a directory"));
    bin()
        .args(["check", "--model-dir", "/no/such/model"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not exist"));
    bin()
        .args(["check", "--archive", "Cargo.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a gzip or tar archive"));
    bin()
        .args(["check", "--model-dir", ".", "--framework", "caffe"])
        .assert()
        .code(2);
    bin()
        .args(["check"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nothing to check"));
}

#[test]
fn an_async_save_not_awaited_leaves_a_truncated_model_file() {
    let a = sim("async_save_not_awaited.py")
        .code(1)
        .stdout(predicate::str::contains(
            "error   model-file-truncated model:model.safetensors",
        ));
    snapshot("sim_async_save_not_awaited", &a.get_output().stdout);
}
