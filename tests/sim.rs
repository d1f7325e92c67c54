//! `packtest sim` end to end: small real training scripts (Python, standard library only) run
//! in an emulated job; the findings are snapshotted. Scripts that hard-code `/opt/ml` or `/tmp`
//! check that the host's own paths stay untouched, with private paths (a user and mount
//! namespace) and with the fallback forced by `PACKTEST_SIM_SHARED_PATHS`.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

#[path = "common/unavailable.rs"]
mod unavailable;
use predicates::prelude::*;

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sim")
        .join(name)
}

fn bin() -> Command {
    Command::cargo_bin("packtest").unwrap()
}

fn sim(name: &str) -> assert_cmd::assert::Assert {
    sim_with(&[], name)
}

fn sim_with(flags: &[&str], name: &str) -> assert_cmd::assert::Assert {
    bin()
        .arg("sim")
        .args(flags)
        .args(["--", "python3"])
        .arg(script(name))
        .assert()
}

/// Text without what changes from run to run or machine to machine: sandbox paths, the job's
/// exit lines (they carry times) and the `paths:` line (tests that need it check it).
fn snapshot(name: &str, out: &[u8]) {
    let text = packtest::layout::redact_paths(&String::from_utf8_lossy(out));
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("job: ") {
                "job: [exit and time]"
            } else if l.starts_with("paths: ") {
                "paths: [private or not]"
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

/// What the host's `/tmp/NAME` and `/opt/ml` hold: compared before and after a job.
fn host_state(tmp_names: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = tmp_names
        .iter()
        .map(|n| {
            let p = Path::new("/tmp").join(n);
            match std::fs::read(&p) {
                Ok(b) => format!(
                    "{}: {} bytes, sha {:x?}",
                    p.display(),
                    b.len(),
                    &b[..b.len().min(16)]
                ),
                Err(_) => format!("{}: absent", p.display()),
            }
        })
        .collect();
    let listing: Vec<String> = walk("/opt/ml");
    out.push(format!("/opt/ml: {listing:?}"));
    out
}

fn walk(dir: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut stack = vec![PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            v.push(format!("{}: not a readable dir", d.display()));
            continue;
        };
        for e in rd.flatten() {
            let meta = e.metadata().map(|m| (m.len(), m.modified().ok()));
            v.push(format!("{} {meta:?}", e.path().display()));
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            }
        }
    }
    v.sort();
    v
}

fn nonce() -> String {
    // Fixed width, so the saved files' sizes do not change from run to run.
    format!(
        "{:010}-{:020}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    )
}

/// True when this machine allows unprivileged user and mount namespaces, judged by
/// util-linux's `unshare -Urm` (not by packtest, so a packtest bug cannot turn the tests that
/// need them into skips). Under CI their absence is a failure.
fn private_paths() -> bool {
    let ok = std::process::Command::new("unshare")
        .args(["-Urm", "true"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        unavailable::unavailable(
            "sim's private /opt/ml and /tmp",
            "`unshare -Urm true` fails here: no unprivileged user namespaces",
        );
    }
    ok
}

#[test]
fn a_literal_opt_ml_save_is_clean_and_stays_off_the_host() {
    if !private_paths() {
        return;
    }
    let n = nonce();
    let before = host_state(&["model.pth"]);
    let a = bin()
        .args(["sim", "--", "python3"])
        .arg(script("literal_opt_ml.py"))
        .env("PACKTEST_TEST_NONCE", &n)
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "paths: private /opt/ml and /tmp (user+mount namespace)",
        ))
        .stdout(predicate::str::contains("0 errors"))
        .stdout(predicate::str::contains("  model.pth"));
    assert_eq!(host_state(&["model.pth"]), before);
    snapshot("sim_literal_opt_ml", &a.get_output().stdout);
}

#[test]
fn a_save_to_tmp_is_model_saved_outside_and_the_host_tmp_is_untouched() {
    if !private_paths() {
        return;
    }
    let n = nonce();
    let before = host_state(&["model.pth"]);
    let a = bin()
        .args(["sim", "--", "python3"])
        .arg(script("save_to_tmp.py"))
        .env("PACKTEST_TEST_NONCE", &n)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "error   model-saved-outside tmp:model.pth",
        ));
    assert_eq!(host_state(&["model.pth"]), before);
    snapshot("sim_save_to_tmp", &a.get_output().stdout);
}

#[test]
fn env_paths_stay_in_the_sandbox_with_private_paths_and_with_the_fallback() {
    for shared in [false, true] {
        if !shared && !private_paths() {
            continue;
        }
        let n = nonce();
        let scratch = format!("packtest-scratch-{n}");
        let before = host_state(&[&scratch]);
        let mut cmd = bin();
        cmd.args(["sim", "--", "python3"])
            .arg(script("tempfile_scratch.py"))
            .env("PACKTEST_TEST_NONCE", &n);
        if shared {
            cmd.env("PACKTEST_SIM_SHARED_PATHS", "1");
        }
        let line = if shared {
            "paths: NOT private (PACKTEST_SIM_SHARED_PATHS is set); SM_* and TMPDIR point into the sandbox, but literal /opt/ml and /tmp writes reach the host"
        } else {
            "paths: private /opt/ml and /tmp (user+mount namespace)"
        };
        cmd.assert()
            .success()
            .stdout(predicate::str::starts_with(line))
            .stdout(predicate::str::contains("0 errors"));
        assert_eq!(host_state(&[&scratch]), before, "shared paths: {shared}");
    }
}

#[test]
fn a_script_in_a_dir_on_the_hosts_tmp_runs_and_sees_its_siblings() {
    // A checkout under /tmp (a CI runner's, a user's scratch copy): the private /tmp keeps the
    // dir the command names visible, and the rest of the host's /tmp hidden.
    if !private_paths() {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("packtest-sim-test-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::write(dir.path().join("config.json"), b"{\"saved\": 1}").unwrap();
    let train = dir.path().join("train.py");
    std::fs::write(
        &train,
        "import json, os, pathlib, sys\n\
         here = pathlib.Path(sys.argv[0]).parent\n\
         cfg = json.loads((here / 'config.json').read_text())\n\
         pathlib.Path(os.environ['SM_MODEL_DIR'], 'model.bin').write_bytes(b'x' * cfg['saved'])\n\
         print('tmp holds', sorted(os.listdir('/tmp')))\n",
    )
    .unwrap();
    let n = nonce();
    let before = host_state(&[&n]);
    let a = bin()
        .args(["sim", "--", "python3"])
        .arg(&train)
        .env("PACKTEST_TEST_NONCE", &n)
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "paths: private /opt/ml and /tmp (user+mount namespace)",
        ))
        .stdout(predicate::str::contains("  model.bin"))
        .stdout(predicate::str::contains("0 errors"));
    let out = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    // The job's /tmp lists only the kept dir; nothing of it is reported as a stray save.
    let name = dir
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains(&format!("tmp holds ['{name}']")), "{err}");
    assert!(!out.contains("tmp:"), "{out}");
    assert_eq!(host_state(&[&n]), before);
    // The mount point made for the kept dir is gone from the sandbox after the job.
    let a = bin()
        .args(["sim", "--keep", "--", "python3"])
        .arg(&train)
        .assert()
        .success();
    let out = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    let kept = out
        .lines()
        .find_map(|l| l.strip_prefix("sandbox kept at "))
        .and_then(|l| l.split(" (").next())
        .expect("the kept sandbox");
    let left: Vec<_> = std::fs::read_dir(Path::new(kept).join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    std::fs::remove_dir_all(kept).unwrap();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn the_source_dir_is_the_jobs_cwd() {
    let dir = script("source_dir");
    let a = bin()
        .args(["sim", "--source-dir"])
        .arg(&dir)
        .args(["--", "python3", "train.py"])
        .assert()
        .success()
        .stdout(predicate::str::contains("  model.joblib"))
        .stdout(predicate::str::contains("0 errors"));
    snapshot("sim_source_dir", &a.get_output().stdout);
    // Without it, the script finds no config.json beside it.
    bin()
        .args(["sim", "--", "python3"])
        .arg(dir.join("train.py"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("the training job FAILED"));
}

#[test]
fn a_hyperparameter_decides_the_output_path() {
    let a = sim_with(
        &["--hp", "epochs=3", "--hp", "model-file=final.pt"],
        "hp_output_path.py",
    )
    .success()
    .stdout(predicate::str::contains("  final.pt"))
    .stdout(predicate::str::contains("0 errors"));
    snapshot("sim_hp_output_path", &a.get_output().stdout);
    sim_with(&["--hp", "epochs=2"], "hp_output_path.py")
        .code(1)
        .stdout(predicate::str::contains(
            "error   model-saved-outside cwd:model.pt",
        ));
}

#[test]
fn two_hosts_saving_the_same_name_clash() {
    let a = sim_with(&["--hosts", "2"], "every_host_saves.py")
        .code(1)
        .stdout(predicate::str::contains("job: algo-1 exit code 0"))
        .stdout(predicate::str::contains("job: algo-2 exit code 0"))
        .stdout(predicate::str::contains(
            "error   multi-host-name-clash model:model.pth",
        ))
        // The merge keeps what each host wrote under a name of its own.
        .stdout(predicate::str::contains("  model-algo-1.pth"))
        .stdout(predicate::str::contains("  model-algo-2.pth"))
        .stdout(predicate::str::contains("multi-host-name-clash model:model-algo").not());
    snapshot("sim_every_host_saves", &a.get_output().stdout);
}

#[test]
fn two_hosts_with_only_the_first_saving_are_clean() {
    let a = sim_with(&["--hosts", "2"], "main_host_saves.py")
        .success()
        .stdout(predicate::str::contains("0 errors"))
        .stdout(predicate::str::contains("multi-host-name-clash").not());
    snapshot("sim_main_host_saves", &a.get_output().stdout);
}

/// The toolkit's Python, or `None` (a failure under CI) when `tests/sim/toolkit-venv.sh` has
/// not been run.
fn toolkit_python() -> Option<PathBuf> {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/toolkit-venv/bin/python3");
    if py.is_file() {
        return Some(py);
    }
    unavailable::unavailable(
        "the real sagemaker-training toolkit",
        &format!("{} is missing: run tests/sim/toolkit-venv.sh", py.display()),
    );
    None
}

/// The `ENV`, `ARGV` and `CWD` lines `env_dump/train.py` prints (to packtest's stderr).
fn env_seen(toolkit: bool) -> std::collections::BTreeMap<String, String> {
    let mut cmd = bin();
    cmd.args(["sim", "--hp", "epochs=3", "--hp", "run-name=first try"]);
    if toolkit {
        cmd.arg("--toolkit");
    }
    let out = cmd
        .args(["--", "python3"])
        .arg(script("env_dump/train.py"))
        .output()
        .expect("packtest runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| {
            let l = l
                .strip_prefix("ENV ")
                .or(Some(l).filter(|l| l.starts_with("ARGV ") || l.starts_with("CWD ")))?;
            let (k, v) = l.split_once(['=', ' '])?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

#[test]
fn the_script_sees_the_same_environment_with_and_without_the_real_toolkit() {
    if toolkit_python().is_none() || !private_paths() {
        return;
    }
    let (ours, real) = (env_seen(false), env_seen(true));
    assert!(ours.contains_key("SM_HPS"), "{ours:?}");
    // Every difference, with why.
    let why = |k: &str| {
        match k {
        "ARGV" => "the toolkit passes the hyperparameters as --NAME VALUE arguments; without it the command runs as given, as a bring-your-own container's `train` does",
        "SM_CHECKPOINT_DIR" => "packtest's own hint for where checkpoints go; the toolkit sets none (the estimator's checkpoint_local_path decides)",
        "SM_USER_ARGS" | "SM_USER_ENTRY_POINT" | "SM_MODULE_NAME" | "SM_MODULE_DIR" | "SM_TRAINING_ENV" => "the toolkit describes the entry point it launched; without it there is none",
        "SAGEMAKER_JOB_NAME" | "SAGEMAKER_REGION" => "the toolkit exports the job name and region (empty here: no AWS job)",
        _ => "UNEXPLAINED",
    }
    };
    let mut lines = Vec::new();
    for k in ours
        .keys()
        .chain(real.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (a, b) = (ours.get(k), real.get(k));
        if a == b {
            continue;
        }
        let show = |v: Option<&String>| {
            v.map_or("<unset>".to_owned(), |v| {
                if v.len() > 60 {
                    format!("{}…", &v[..60])
                } else {
                    v.clone()
                }
            })
        };
        lines.push(format!(
            "{k}: sim={} toolkit={}\n  why: {}",
            show(a),
            show(b),
            why(k)
        ));
    }
    let text = lines.join("\n");
    assert!(!text.contains("UNEXPLAINED"), "{text}");
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.bind(|| insta::assert_snapshot!("sim_toolkit_env_differences", text));
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
        .args(["sim", "--hp", "epochs", "--", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--hp `epochs` is not NAME=VALUE"));
    bin()
        .args(["sim", "--hp", "=3", "--", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("hyperparameter name ``"));
    bin()
        .args(["sim", "--hosts", "0", "--", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--hosts"));
    bin()
        .args(["sim", "--source-dir", "/no/such/src", "--", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--source-dir `/no/such/src` is not a directory",
        ));
    bin()
        .args([
            "sim",
            "--toolkit",
            "--",
            "python3",
            "train.py",
            "--epochs",
            "3",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--toolkit runs one entry point"));
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
