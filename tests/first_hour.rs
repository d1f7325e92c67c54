//! A platform team's first hour: the built-in scenario library from any directory and in
//! `cargo test`, `--partition` over scenarios, messages that point at the fix (a traceback's
//! last line, the missing `-C`, findings that only follow from a damaged archive or a failed
//! job), `schema_version` in JSON, and errors that print their message in a failing test.
//! The messages are insta snapshots in `snapshots/`, reviewed by hand.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn packtest() -> Command {
    let mut c = Command::cargo_bin("packtest").expect("the packtest binary is built");
    c.env_remove("PACKTEST_SCENARIOS");
    c
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A scenario of a team's own: a model dir holding one file.
const TEAM_SCENARIO: &str = r#"
id = "team-only"
title = "our packager's own pitfall"
summary = "a model dir with one weights file"
sources = ["https://example.com/our-wiki/packaging"]
framework = "generic"
fix = "nothing to fix"
[expect]
codes = []
[expect.targets.sagemaker]
reference_packager = "succeeds"
typical_archive = "extracts"
consumer = "extracts it"
[expect.targets.posix]
reference_packager = "succeeds"
typical_archive = "extracts"
consumer = "extracts it"
[expect.targets.kserve]
reference_packager = "succeeds"
typical_archive = "extracts"
consumer = "extracts it"
[layout]
[[layout.entry]]
root = "model"
path = "model.safetensors"
kind = "file"
content = { format = "safetensors", seed = 1, size = 256 }
"#;

#[test]
fn scenarios_list_works_from_any_directory() {
    let empty = tempfile::tempdir().unwrap();
    let a = packtest()
        .args(["scenarios", "list"])
        .current_dir(empty.path())
        .assert()
        .success();
    let out = a.get_output();
    let listed = text(&out.stdout).lines().count();
    assert_eq!(listed, packtest::scenario::EMBEDDED.len());
    assert!(text(&out.stdout).contains("torch-save-to-cwd"));
    assert_eq!(
        text(&out.stderr).trim(),
        format!("{listed} scenarios from the built-in library")
    );
    packtest()
        .args(["scenarios", "show", "dangling-symlink"])
        .current_dir(empty.path())
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "(built in) scenarios/dangling-symlink.toml",
        ));
}

#[test]
fn dir_adds_a_teams_own_scenarios() {
    let t = tempfile::tempdir().unwrap();
    let own = t.path().join("ours");
    std::fs::create_dir(&own).unwrap();
    std::fs::write(own.join("team-only.toml"), TEAM_SCENARIO).unwrap();
    let a = packtest()
        .args(["scenarios", "--dir", "ours", "list"])
        .current_dir(t.path())
        .assert()
        .success();
    let out = a.get_output();
    let n = packtest::scenario::EMBEDDED.len() + 1;
    assert_eq!(text(&out.stdout).lines().count(), n);
    assert!(text(&out.stdout).contains("team-only"));
    assert_eq!(
        text(&out.stderr).trim(),
        format!("{n} scenarios from the built-in library and `ours`")
    );
}

#[test]
fn a_missing_scenario_dir_names_its_cause_once_and_the_dir_flag() {
    let t = tempfile::tempdir().unwrap();
    let a = packtest()
        .args(["scenarios", "--dir", "no-such-dir", "list"])
        .current_dir(t.path())
        .assert()
        .code(2);
    let err = text(&a.get_output().stderr);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    settings().bind(|| insta::assert_snapshot!("first_hour_missing_scenario_dir", err));
}

#[test]
fn the_built_in_library_runs_in_cargo_test() {
    let outcome = packtest::Harness::new(packtest::ReferencePackager::default())
        .cases(0)
        .jobs(2)
        .scenario_library()
        .run();
    outcome.assert_passed();
    let report = outcome.report().expect("a report");
    let names: BTreeSet<&str> = report.results.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), packtest::scenario::EMBEDDED.len());
    assert!(names.contains("scenario:torch-save-to-cwd"), "{names:?}");
    // A `Harness` run replays as its own test, which adds the library itself.
    assert_eq!(
        report.replay.to_string(),
        "PACKTEST_SEED=0 cargo test the_built_in_library_runs_in_cargo_test -- --exact"
    );
}

/// The case names of one `run --json` report, the baseline left out.
fn case_names(args: &[&str], dir: &Path, json: &str) -> Vec<String> {
    packtest()
        .args([
            "run",
            "--cases",
            "9",
            "--seed",
            "3",
            "--no-shrink",
            "--quiet",
            "--jobs",
            "2",
        ])
        .arg("--scenarios")
        .arg(repo("scenarios"))
        .args(["--json", json])
        .args(args)
        .current_dir(dir)
        .assert()
        .code(predicates::ord::le(1));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(json)).unwrap()).unwrap();
    assert_eq!(report["schema_version"], 1);
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .filter(|n| n != "baseline")
        .collect()
}

#[test]
fn partition_shards_scenarios_and_cases_once_each() {
    let t = tempfile::tempdir().unwrap();
    let whole = case_names(&[], t.path(), "whole.json");
    let mut union = Vec::new();
    for k in 1..=3 {
        let shard = case_names(&["--partition", &format!("{k}/3")], t.path(), "shard.json");
        let scenarios = shard.iter().filter(|n| n.starts_with("scenario:")).count();
        assert!(
            scenarios > 0 && scenarios < 20,
            "shard {k}: {scenarios} scenarios"
        );
        union.extend(shard);
    }
    let run_once: BTreeSet<&String> = union.iter().collect();
    assert_eq!(run_once.len(), union.len(), "a case ran in two shards");
    let whole_set: BTreeSet<&String> = whole.iter().collect();
    assert_eq!(
        run_once, whole_set,
        "the shards' union is not the whole run"
    );
}

/// The text report of a run that stops at the baseline, sandbox paths and durations redacted.
fn baseline_report(packager: &str) -> String {
    let a = packtest()
        .args([
            "run",
            "--cases",
            "4",
            "--no-shrink",
            "--quiet",
            "--redact",
            "--seed",
            "1",
        ])
        .args(["--packager", packager])
        .assert()
        .code(1);
    text(&a.get_output().stdout)
}

#[test]
fn a_long_traceback_keeps_its_first_and_last_lines() {
    let script = r#"exec >&2; echo "Traceback (most recent call last):"; i=0; while [ $i -lt 30 ]; do echo "  File \"pack.py\", line $i, in step"; i=$((i+1)); done; echo "PermissionError: [Errno 13] Permission denied: weights.bin"; exit 1"#;
    let out = baseline_report(&format!("sh -c '{script}' sh {{output}}"));
    assert!(out.contains("PermissionError: [Errno 13]"), "{out}");
    settings().bind(|| insta::assert_snapshot!("first_hour_traceback", out));
}

#[test]
fn a_missing_dash_c_is_relative_names_with_the_fix() {
    let out = baseline_report("tar -czf {output} {model_dir}");
    assert!(out.contains("use `-C {model_dir} .`"), "{out}");
    assert!(!out.contains("[fidelity]"), "{out}");
    settings().bind(|| insta::assert_snapshot!("first_hour_missing_dash_c", out));
}

#[test]
fn a_truncated_archive_does_not_blame_the_model_dir() {
    let t = tempfile::tempdir().unwrap();
    let model = t.path().join("model");
    std::fs::create_dir(&model).unwrap();
    let weights: Vec<u8> = (0..200_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(model.join("model.pt"), weights).unwrap();
    packtest()
        .args(["pack", "model", "-o", "model.tar.gz"])
        .current_dir(t.path())
        .assert()
        .success();
    let bytes = std::fs::read(t.path().join("model.tar.gz")).unwrap();
    std::fs::write(t.path().join("model.tar.gz"), &bytes[..bytes.len() / 2]).unwrap();
    let a = packtest()
        .args(["check", "--archive", "model.tar.gz"])
        .env("NO_COLOR", "1")
        .current_dir(t.path())
        .assert()
        .code(1);
    let out = text(&a.get_output().stdout);
    assert!(!out.contains("SM_MODEL_DIR"), "{out}");
    settings().bind(|| insta::assert_snapshot!("first_hour_truncated_archive", out));
    let json = packtest()
        .args(["check", "--archive", "model.tar.gz", "--json"])
        .current_dir(t.path())
        .assert()
        .code(1);
    let v: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["context"]["target"], "sagemaker");
}

#[test]
fn a_crashed_training_job_does_not_blame_the_model_dir() {
    let a = packtest()
        .args([
            "sim",
            "--",
            "sh",
            "-c",
            "echo 'RuntimeError: CUDA out of memory' >&2; exit 3",
        ])
        .env("NO_COLOR", "1")
        .assert()
        .code(1);
    let out: String = text(&a.get_output().stdout)
        .lines()
        .filter(|l| !l.starts_with("job: ") && !l.starts_with("paths: "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!out.contains("save the model under"), "{out}");
    settings().bind(|| insta::assert_snapshot!("first_hour_crashed_job", out));
}

#[test]
fn the_readme_documents_every_field_of_the_json_report() {
    let t = tempfile::tempdir().unwrap();
    packtest()
        .args(["run", "--cases", "2", "--quiet", "--json", "r.json"])
        .current_dir(t.path())
        .assert()
        .success();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("r.json")).unwrap()).unwrap();
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let section = &readme[readme.find("## JSON output").expect("the JSON section")..];
    let mut fields: Vec<String> = report.as_object().unwrap().keys().cloned().collect();
    fields.extend(report["results"][0].as_object().unwrap().keys().cloned());
    for f in fields {
        assert!(
            section.contains(&format!("`{f}`")),
            "README does not document `{f}`"
        );
    }
}

#[test]
fn a_failing_test_prints_the_error_message_not_its_fields() {
    let e: packtest::Error = packtest::CommandPackager::parse("ourpack {model_dir}")
        .expect_err("a template without {output} is refused")
        .into();
    // What libtest prints for a test that returns `Err(e)`.
    let printed = format!("Error: {e:?}");
    settings().bind(|| insta::assert_snapshot!("first_hour_error_debug", printed));
}

#[test]
fn the_built_in_library_runs_from_the_cli_and_its_replays_name_it() {
    let t = tempfile::tempdir().unwrap();
    packtest()
        .args([
            "run",
            "--cases",
            "0",
            "--scenarios",
            "builtin",
            "--quiet",
            "--no-shrink",
        ])
        .args([
            "--packager",
            "tar -czf {output} -C {model_dir} .",
            "--json",
            "r.json",
        ])
        .current_dir(t.path())
        .assert()
        .code(1);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("r.json")).unwrap()).unwrap();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), packtest::scenario::EMBEDDED.len());
    let failed = results
        .iter()
        .find(|r| r["status"] == "failed")
        .expect("tar keeps symlinks, which sagemaker refuses");
    let replay = failed["replay"].as_str().unwrap();
    // It reruns that one scenario; the library runs by default, so nothing names it.
    let id = failed["name"]
        .as_str()
        .unwrap()
        .trim_start_matches("scenario:");
    assert!(
        replay.ends_with(&format!("--scenario {id} --target sagemaker")),
        "{replay}"
    );
    let again = shell_words::split(replay).unwrap();
    packtest()
        .args(&again[1..])
        .args(["--quiet", "--no-shrink"])
        .current_dir(t.path())
        .assert()
        .code(1);
}

/// A model dir with a weights file and a symlink, which SageMaker hosting refuses.
fn model_with_link(t: &Path) {
    std::fs::create_dir(t.join("model")).unwrap();
    std::fs::write(t.join("model/model.safetensors"), b"weights").unwrap();
    std::os::unix::fs::symlink("model.safetensors", t.join("model/latest")).unwrap();
    packtest()
        .args(["pack", "model", "-o", "posix.tar.gz", "--target", "posix"])
        .current_dir(t)
        .assert()
        .success();
}

#[test]
fn every_json_output_starts_with_the_schema_version() {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let start = readme.find("## JSON output").expect("the JSON section");
    let section = &readme[start..start + readme[start..].find("\n## ").unwrap()];
    let t = tempfile::tempdir().unwrap();
    model_with_link(t.path());
    std::fs::write(t.path().join("model/model.safetensors"), b"other").unwrap();
    packtest()
        .args(["pack", "model", "-o", "b.tar.gz", "--target", "posix"])
        .current_dir(t.path())
        .assert()
        .success();
    let runs: [(&[&str], i32); 5] = [
        (&["diff", "posix.tar.gz", "b.tar.gz", "--json"], 1),
        (&["inspect", "posix.tar.gz", "--json"], 0),
        (&["diff", "posix.tar.gz", "posix.tar.gz", "--json"], 0),
        (
            &[
                "unpack",
                "posix.tar.gz",
                "out-posix",
                "--target",
                "posix",
                "--json",
            ],
            0,
        ),
        (&["unpack", "posix.tar.gz", "out-sm", "--json"], 1),
    ];
    for (args, code) in runs {
        let a = packtest()
            .args(args)
            .current_dir(t.path())
            .assert()
            .code(code);
        let out = text(&a.get_output().stdout);
        assert!(
            out.starts_with("{\n  \"schema_version\": 1,"),
            "`packtest {}` JSON does not start with schema_version:\n{out}",
            args.join(" ")
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v.as_object().unwrap().len() > 1, "{out}");
        let mut fields = BTreeSet::new();
        all_keys(&v, &mut fields);
        for f in fields {
            assert!(
                section.contains(&format!("`{f}`")),
                "README's JSON section does not document `{f}` of `packtest {}`",
                args.join(" ")
            );
        }
    }
}

/// Every object key in `v`, at any depth.
fn all_keys(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                out.insert(k.clone());
                all_keys(x, out);
            }
        }
        serde_json::Value::Array(xs) => xs.iter().for_each(|x| all_keys(x, out)),
        _ => {}
    }
}

#[test]
fn counts_in_messages_are_singular_or_plural() {
    let t = tempfile::tempdir().unwrap();
    model_with_link(t.path());
    let a = packtest()
        .args(["unpack", "posix.tar.gz", "out"])
        .current_dir(t.path())
        .assert()
        .code(1);
    let err = text(&a.get_output().stderr);
    assert!(err.contains("refuses this archive (1 member);"), "{err}");
    let a = packtest()
        .args(["pack", "model", "-o", "c.tar.gz", "--target", "posix"])
        .current_dir(t.path())
        .assert()
        .success();
    let err = text(&a.get_output().stderr);
    let want = "packed 1 file, 0 dirs, 1 symlink, 0 hard links, 0 special files into";
    assert!(err.contains(want), "{err}");
    std::fs::write(t.path().join("model/model.safetensors"), b"other weights").unwrap();
    packtest()
        .args(["pack", "model", "-o", "b.tar.gz", "--target", "posix"])
        .current_dir(t.path())
        .assert()
        .success();
    let a = packtest()
        .args(["diff", "posix.tar.gz", "b.tar.gz"])
        .current_dir(t.path())
        .assert()
        .code(1);
    let out = text(&a.get_output().stdout);
    assert!(out.contains("different: 1 member differs"), "{out}");
}
