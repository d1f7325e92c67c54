//! Runner robustness (issue 7, part 3), through the real binary: `packtest run` with packagers
//! that hang, fork children that outlive them (in their process group or out of it with
//! `setsid`), print megabytes to stderr, die by a signal, delete their own input, or write
//! outside the model dir. Each run must finish within its timeouts, report every case as
//! failed with a clear reason where the contract says so, and leave no process, sandbox or
//! temp dir behind: processes are counted by a unique marker in their command line, and the
//! sandbox and temp dirs are private to each test and must end empty.
//!
//! The runs replay four scenarios from `scenarios/` (`--cases 0 --scenarios DIR`), so no
//! baseline case stops the run early and every case meets the hostile packager.

#[path = "common/unavailable.rs"]
mod unavailable;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SCENARIOS: [&str; 4] = [
    "correct-pytorch.toml",
    "correct-huggingface.toml",
    "dangling-symlink.toml",
    "empty-model-dir.toml",
];

/// A private world for one run: scenarios, sandbox dir, temp dir, report path, marker.
struct World {
    dir: tempfile::TempDir,
    marker: String,
}

impl World {
    fn new(test_no: u32) -> World {
        let dir = tempfile::tempdir().unwrap();
        let sc = dir.path().join("scenarios");
        std::fs::create_dir(&sc).unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        for s in SCENARIOS {
            std::fs::copy(repo.join(s), sc.join(s)).unwrap();
        }
        std::fs::create_dir(dir.path().join("sandboxes")).unwrap();
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        // Digits only, so it can also be the fraction of a `sleep` argument.
        let marker = format!("9{:07}{test_no}", std::process::id());
        World { dir, marker }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// `sleep 300.<marker>`: a sleeper that can be counted by its command line.
    fn sleeper(&self) -> String {
        format!("sleep 300.{}", self.marker)
    }

    /// Processes whose command line holds the marker.
    fn strays(&self) -> Vec<String> {
        let mut v = Vec::new();
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
                let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
                if cmd.contains(&self.marker) {
                    v.push(format!("{}: {cmd}", e.file_name().to_string_lossy()));
                }
            }
        }
        v
    }

    /// Runs `packtest run` with `packager` and a per-run `timeout` (seconds); kills it after
    /// `limit`. Returns the exit code, the JSON report and the wall time.
    fn run(&self, packager: &str, timeout: f64, limit: Duration) -> Ran {
        let report = self.path("report.json");
        let start = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_packtest"))
            .args(["run", "--cases", "0", "--no-scenarios", "--scenarios"])
            .arg(self.path("scenarios"))
            // `posix`: every scenario here has something a packager must store, so a failing
            // packager fails every case (under `sagemaker` the dangling link must be refused).
            .args(["--target", "posix"])
            .args(["--jobs", "2", "--no-shrink", "--quiet", "--timeout"])
            .arg(timeout.to_string())
            .arg("--json")
            .arg(&report)
            .args(["--packager", packager])
            .env("PACKTEST_TMPDIR", self.path("sandboxes"))
            .env("TMPDIR", self.path("tmp"))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "`packtest run` did not finish within {limit:?} (strays: {:?})",
                    self.strays()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let elapsed = start.elapsed();
        let report: serde_json::Value = std::fs::read(&report)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(serde_json::Value::Null);
        Ran {
            code: status.code(),
            report,
            elapsed,
        }
    }

    /// No stray process, sandbox or temp dir.
    fn assert_clean(&self) {
        // Killed processes may take a moment to disappear from /proc.
        let t = Instant::now();
        while !self.strays().is_empty() && t.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(self.strays(), Vec::<String>::new(), "stray processes");
        for d in ["sandboxes", "tmp"] {
            let left: Vec<_> = std::fs::read_dir(self.path(d))
                .unwrap()
                .flatten()
                .map(|e| e.file_name())
                .collect();
            assert!(left.is_empty(), "left in {d}: {left:?}");
        }
    }
}

struct Ran {
    code: Option<i32>,
    report: serde_json::Value,
    elapsed: Duration,
}

impl Ran {
    fn cases(&self) -> Vec<&serde_json::Value> {
        self.report["results"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    }

    /// Every case failed, with a violation of `property` whose `found` contains `text`.
    fn assert_every_case_failed_with(&self, property: &str, text: &str) {
        let cases = self.cases();
        assert_eq!(cases.len(), SCENARIOS.len(), "{}", self.report);
        for c in cases {
            assert_eq!(c["status"], "failed", "{c}");
            let hit = c["violations"].as_array().into_iter().flatten().any(|v| {
                v["property"] == property && v["found"].as_str().is_some_and(|f| f.contains(text))
            });
            assert!(hit, "no `{property}` violation mentioning `{text}`: {c}");
        }
    }
}

#[test]
fn a_hanging_packager_and_its_children_are_killed_at_each_timeout() {
    let w = World::new(1);
    let s = w.sleeper();
    let cmd = format!(
        "sh -c 'sh -c \"{s}; : {m}\" & {s}; : {m}' {{output}}",
        m = w.marker
    );
    let r = w.run(&cmd, 1.0, Duration::from_secs(60));
    assert_eq!(r.code, Some(1));
    r.assert_every_case_failed_with(
        "loud-failure",
        "s, the per-run limit; raise the limit with --timeout SECS",
    );
    // 4 cases on 2 workers, 1 s timeout + 0.3 s grace each: about 2.6 s of waiting.
    assert!(r.elapsed < Duration::from_secs(20), "took {:?}", r.elapsed);
    w.assert_clean();
}

#[test]
fn children_that_outlive_the_packager_in_its_group_are_killed_at_once() {
    let w = World::new(2);
    let cmd = format!(
        "sh -c '{s} & exec tar -czf {{output}} -C {{model_dir}} .'",
        s = w.sleeper()
    );
    let r = w.run(&cmd, 30.0, Duration::from_secs(60));
    assert_eq!(r.cases().len(), SCENARIOS.len(), "{}", r.report);
    for c in r.cases() {
        // The packager's own work is quick; nobody waited for the sleeper.
        assert!(c["packager_seconds"].as_f64().unwrap_or(99.0) < 10.0, "{c}");
    }
    w.assert_clean();
}

#[test]
fn children_that_leave_the_group_with_setsid_are_found_and_killed() {
    let w = World::new(3);
    // One escapee keeps the output pipes open, one detaches them like a daemon.
    let cmd = format!(
        "sh -c 'setsid {s} & setsid sh -c \"{s}; : {m}\" </dev/null >/dev/null 2>&1 & exec tar -czf {{output}} -C {{model_dir}} .'",
        s = w.sleeper(),
        m = w.marker
    );
    let r = w.run(&cmd, 30.0, Duration::from_secs(60));
    assert_eq!(r.cases().len(), SCENARIOS.len(), "{}", r.report);
    assert!(r.elapsed < Duration::from_secs(30), "took {:?}", r.elapsed);
    w.assert_clean();
}

#[test]
fn megabytes_of_stderr_are_capped_in_memory_and_in_the_report() {
    let w = World::new(4);
    let cmd = "sh -c 'head -c 20000000 /dev/zero | tr \"\\0\" e >&2; exit 3' {output}";
    let time = Path::new("/usr/bin/time");
    let r = w.run(cmd, 30.0, Duration::from_secs(120));
    assert_eq!(r.code, Some(1));
    // The empty model dir may be refused loudly (DESIGN §2): the other cases must not be.
    let refused_empty = r
        .cases()
        .iter()
        .any(|c| c["name"] == "scenario:empty-model-dir" && c["status"] == "passed");
    assert!(refused_empty, "{}", r.report);
    let others: Vec<&serde_json::Value> = r
        .cases()
        .into_iter()
        .filter(|c| c["name"] != "scenario:empty-model-dir")
        .collect();
    assert_eq!(others.len(), SCENARIOS.len() - 1, "{}", r.report);
    for c in others {
        let hit = c["violations"].as_array().into_iter().flatten().any(|v| {
            v["property"] == "exit-and-output"
                && v["found"]
                    .as_str()
                    .is_some_and(|f| f.contains("exit code 3"))
        });
        assert!(
            hit,
            "no `exit-and-output` violation mentioning exit code 3: {c}"
        );
    }
    let size = std::fs::metadata(w.path("report.json")).unwrap().len();
    assert!(size < 4 << 20, "the JSON report is {size} bytes");
    if time.exists() {
        // Peak memory of the whole run, measured outside it.
        let out = Command::new(time)
            .args(["-f", "%M"])
            .arg(env!("CARGO_BIN_EXE_packtest"))
            .args(["run", "--cases", "0", "--no-scenarios", "--scenarios"])
            .arg(w.path("scenarios"))
            .args(["--jobs", "2", "--no-shrink", "--quiet", "--packager", cmd])
            .env("PACKTEST_TMPDIR", w.path("sandboxes"))
            .env("TMPDIR", w.path("tmp"))
            .stdout(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let kib: u64 = err
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .unwrap();
        assert!(kib < 256 << 10, "peak RSS {kib} KiB for 80 MB of stderr");
    } else {
        unavailable::unavailable("the RSS bound", "/usr/bin/time is missing");
    }
    w.assert_clean();
}

#[test]
fn a_packager_killed_by_a_signal_is_reported_as_such() {
    let w = World::new(5);
    let r = w.run(
        "sh -c 'kill -SEGV $$' {output}",
        30.0,
        Duration::from_secs(60),
    );
    assert_eq!(r.code, Some(1));
    r.assert_every_case_failed_with("loud-failure", "killed by signal 11");
    w.assert_clean();
}

#[test]
fn a_packager_that_deletes_its_input_breaks_source_untouched() {
    let w = World::new(6);
    let r = w.run(
        "sh -c 'tar -czf {output} -C {model_dir} . && rm -rf {model_dir}/*'",
        30.0,
        Duration::from_secs(60),
    );
    assert_eq!(r.code, Some(1));
    // The empty model dir scenario has nothing to delete; the other three must fail.
    let failed: Vec<_> = r
        .cases()
        .into_iter()
        .filter(|c| {
            c["violations"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|v| v["property"] == "source-untouched")
        })
        .collect();
    assert_eq!(failed.len(), SCENARIOS.len() - 1, "{}", r.report);
    w.assert_clean();
}

#[test]
fn a_packager_that_writes_outside_the_model_dir_breaks_source_untouched() {
    let w = World::new(7);
    let r = w.run(
        "sh -c 'echo pwned > {model_dir}/../../../outside/pwned.txt; tar -czf {output} -C {model_dir} .'",
        30.0,
        Duration::from_secs(60),
    );
    assert_eq!(r.code, Some(1));
    r.assert_every_case_failed_with("source-untouched", "");
    w.assert_clean();
}
