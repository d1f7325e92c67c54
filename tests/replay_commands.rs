//! Every replay command a report prints reproduces its failure when pasted into a shell.
//!
//! One failing run of a real command packager writes the text, JSON and JUnit reports and
//! saves its shrunk failures; every replay command found in the three reports is then run
//! with `sh -c`, as a user would paste it (plus `--json`), and must rerun exactly its case,
//! alone, and fail again. A failing `Harness` test prints `PACKTEST_SEED=… PACKTEST_CASE=N
//! cargo test <name>`; setting those variables reruns exactly that case, which fails again.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `tar` stores symlinks as symlinks, which SageMaker hosting refuses: cases with links fail.
const TAR: &str = "tar -czf {output} -C {model_dir} .";

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_packtest"))
        .parent()
        .expect("the binary has a directory")
        .to_owned()
}

/// Runs a shell command line with the built `packtest` first on `PATH`.
fn sh(line: &str, cwd: &Path) -> std::process::Output {
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(cwd)
        .env("PATH", path)
        .env_remove("PACKTEST_SEED")
        .env_remove("PACKTEST_CASES")
        .env_remove("PACKTEST_TARGET")
        .env_remove("PACKTEST_PACKAGER")
        .output()
        .expect("sh runs")
}

fn first_word(s: &str) -> String {
    s.split_whitespace().next().unwrap_or_default().to_owned()
}

/// The names of the failed cases in a text report.
fn failed_cases(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("FAILED "))
        .map(first_word)
        .collect()
}

fn unescape_xml(s: &str) -> String {
    s.replace("&apos;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A replay command and the case name that must fail again when it runs.
type Replays = BTreeSet<(String, String)>;

/// The replay commands in the text report, with the case each reproduces (`*` for the run).
fn from_text(text: &str) -> Replays {
    let mut out = Replays::new();
    let mut case = String::new();
    let mut in_cause = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("FAILED ") {
            case = first_word(rest);
            in_cause = false;
        } else if line
            .split_once(". ")
            .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        {
            // `1. headline`: a cause, whose replay reruns its representative case.
            in_cause = true;
            case.clear();
        } else if let Some(rest) = line.trim_start().strip_prefix("replay: ") {
            let name = if in_cause {
                case_named_by(rest)
            } else {
                case.clone()
            };
            out.insert((rest.to_owned(), name));
        } else if let Some(rest) = line.trim_start().strip_prefix("saved: ") {
            let cmd = rest
                .split_once(" (replay: ")
                .map(|(_, c)| c.trim_end_matches(')'))
                .expect("a saved line names its replay");
            out.insert((cmd.to_owned(), "saved:*".to_owned()));
        } else if let Some(cmd) = line.strip_prefix("replay the whole run: ") {
            out.insert((cmd.to_owned(), "*".into()));
        }
    }
    out
}

/// The case a one-case replay names: `--case N` is `case-N`, `--scenario ID` is
/// `scenario:ID` (or `baseline`).
fn case_named_by(cmd: &str) -> String {
    let words = shell_words::split(cmd).expect("a shell line");
    let after = |flag: &str| {
        words
            .iter()
            .position(|w| w == flag)
            .and_then(|i| words.get(i + 1))
            .cloned()
    };
    match (after("--case"), after("--scenario")) {
        (Some(n), _) => format!("case-{n}"),
        (None, Some(id)) if id == "baseline" => id,
        (None, Some(id)) => format!("scenario:{id}"),
        (None, None) => panic!("`{cmd}` reruns no one case"),
    }
}

/// The replay commands in the JSON report.
fn from_json(json: &serde_json::Value) -> Replays {
    let mut out = Replays::new();
    out.insert((
        json["replay"].as_str().expect("run replay").to_owned(),
        "*".into(),
    ));
    for r in json["results"].as_array().expect("results") {
        let name = r["name"].as_str().expect("name").to_owned();
        if let Some(cmd) = r["replay"].as_str() {
            out.insert((cmd.to_owned(), name.clone()));
        }
    }
    for c in json["causes"].as_array().expect("causes") {
        let prop = c["property"].as_str().expect("property");
        if let Some(cmd) = c["saved_replay"].as_str() {
            out.insert((cmd.to_owned(), format!("saved:*{prop}")));
        }
    }
    out
}

/// The replay commands in the JUnit report (one per failed test case's description).
fn from_junit(xml: &str) -> Replays {
    let mut out = Replays::new();
    let mut case = String::new();
    for line in xml.lines() {
        if let Some(i) = line.find("<testcase name=\"") {
            let rest = &line[i + "<testcase name=\"".len()..];
            case = unescape_xml(rest.split('"').next().unwrap_or_default());
        }
        if let Some(i) = line.find("replay: ") {
            let cmd = unescape_xml(line[i + "replay: ".len()..].trim_end());
            let cmd = cmd.split("</").next().unwrap_or_default().to_owned();
            out.insert((cmd, case.clone()));
        }
    }
    out
}

/// Runs one replay with `--json` added and checks, from that report, that it reruns exactly
/// `case` (one case, that one, failed again); `*`: the whole run, failing on the same cases;
/// `saved:*PROP`: exactly one saved failure, failing on `PROP` again.
fn assert_reproduces(cmd: &str, case: &str, failed: &BTreeSet<String>, cwd: &Path) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let json = cwd.join(format!("replay-{n}.json"));
    let out = sh(&format!("{cmd} --json {}", json.display()), cwd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "`{cmd}` did not fail again:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("replay JSON written"))
            .expect("valid JSON");
    let results = report["results"].as_array().expect("results");
    let names: Vec<&str> = results.iter().filter_map(|r| r["name"].as_str()).collect();
    if case == "*" {
        let again: BTreeSet<String> = results
            .iter()
            .filter(|r| r["status"] == "failed")
            .filter_map(|r| r["name"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(&again, failed, "`{cmd}` failed on other cases");
        return;
    }
    assert_eq!(results.len(), 1, "`{cmd}` ran {names:?}, not one case");
    let r = &results[0];
    assert_eq!(r["status"], "failed", "`{cmd}` did not fail again: {r}");
    match case.strip_prefix("saved:*") {
        Some(prop) => {
            let broken = prop.is_empty()
                || r["violations"]
                    .as_array()
                    .expect("violations")
                    .iter()
                    .any(|v| v["property"] == prop);
            assert!(
                names[0].starts_with("saved:") && broken,
                "`{cmd}` did not fail on the saved failure of {prop}: {r}"
            );
        }
        None => assert_eq!(names[0], case, "`{cmd}` reran another case"),
    }
}

#[test]
fn every_printed_replay_command_reproduces_its_failure() {
    let t = tempfile::tempdir().expect("tempdir");
    let saved = t.path().join("saved");
    let json = t.path().join("r.json");
    let junit = t.path().join("r.xml");
    // A scenario dir with one scenario that fails under tar (a link inside the model dir).
    let scen = t.path().join("scen");
    std::fs::create_dir(&scen).expect("scenario dir");
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    std::fs::copy(
        lib.join("latest-symlink-to-checkpoint-dir.toml"),
        scen.join("latest-symlink-to-checkpoint-dir.toml"),
    )
    .expect("the scenario exists");
    let run = format!(
        "packtest run --packager '{TAR}' --seed 11 --cases 12 --timeout 30 --jobs 2 --verbose \
         --scenarios {} --save-failures {} --json {} --junit {}",
        scen.display(),
        saved.display(),
        json.display(),
        junit.display()
    );
    let out = sh(&run, t.path());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "the run must fail:\n{text}");
    let failed = failed_cases(&text);
    assert!(
        failed.contains("scenario:latest-symlink-to-checkpoint-dir")
            && failed.iter().any(|c| c.starts_with("case-")),
        "the run must fail on the scenario and on a generated case: {failed:?}\n{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json written"))
            .expect("valid JSON");
    let junit = std::fs::read_to_string(&junit).expect("junit written");
    let (t_, j_, x_) = (from_text(&text), from_json(&json), from_junit(&junit));
    // The three reports print the same commands.
    let cmds = |r: &Replays| r.iter().map(|(c, _)| c.clone()).collect::<BTreeSet<_>>();
    assert_eq!(cmds(&t_), cmds(&j_), "text and JSON replay commands differ");
    assert!(
        cmds(&x_).is_subset(&cmds(&t_)) && !x_.is_empty(),
        "JUnit replays {x_:?} must be among the text's {t_:?}"
    );
    for (cmd, _) in &t_ {
        assert!(cmd.contains("--timeout 30"), "`{cmd}` drops --timeout");
        assert!(cmd.contains("--target sagemaker"), "`{cmd}` drops --target");
    }
    assert!(
        t_.iter().any(|(c, _)| c.contains("--scenarios")),
        "no replay names the scenario dir"
    );
    // Every replay of one failure names its case; none carries a case count.
    for (cmd, case) in t_.iter().chain(&j_).chain(&x_) {
        if case != "*" {
            assert!(
                (cmd.contains(" --case ") || cmd.contains(" --scenario "))
                    && !cmd.contains("--cases"),
                "`{cmd}` does not rerun one case"
            );
        }
    }
    for (cmd, case) in t_.iter().chain(&j_).chain(&x_).collect::<BTreeSet<_>>() {
        assert_reproduces(cmd, case, &failed, t.path());
    }
}

#[test]
fn a_strict_baseline_failure_replays_under_the_strict_profile() {
    let t = tempfile::tempdir().expect("tempdir");
    let out = sh(
        &format!(
            "packtest run --packager '{TAR}' --seed 3 --cases 4 --strict --target posix --verbose"
        ),
        t.path(),
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    let replays = from_text(&text);
    let baseline: Vec<_> = replays.iter().filter(|(_, c)| c == "baseline").collect();
    assert_eq!(baseline.len(), 1, "one baseline replay: {replays:?}");
    let (cmd, case) = baseline[0];
    assert!(
        cmd.contains("--strict") && cmd.contains("--target posix"),
        "{cmd}"
    );
    let failed = BTreeSet::from(["baseline".to_owned()]);
    assert_reproduces(cmd, case, &failed, t.path());
}

/// The packager of the `Harness` tests below: tar, which stores symlinks (sagemaker refuses
/// them), so some generated cases fail.
const HARNESS_SEED: &str = "11";

/// Not a test of its own: the `Harness` run that `a_harness_failure_replays_one_case_with_cargo_test`
/// starts in a child process of this test binary (env vars are process-global). Without
/// `PACKTEST_REPLAY_CHILD` it does nothing.
#[test]
fn harness_child() {
    if std::env::var_os("PACKTEST_REPLAY_CHILD").is_none() {
        return;
    }
    let p = packtest::CommandPackager::parse(TAR).expect("parses");
    packtest::Harness::new(p)
        .cases(8)
        .jobs(1)
        .max_shrink_runs(8)
        .run()
        .assert_passed();
}

/// Runs `harness_child` in a child process with `env` set; returns its output.
fn harness_child_with(env: &[(&str, &str)]) -> String {
    let mut c = Command::new(std::env::current_exe().expect("the test binary"));
    c.args([
        "harness_child",
        "--exact",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env("PACKTEST_REPLAY_CHILD", "1");
    for v in [
        "PACKTEST_SEED",
        "PACKTEST_CASE",
        "PACKTEST_SCENARIO",
        "PACKTEST_CASES",
    ] {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("the test binary runs");
    assert!(!out.status.success(), "harness_child passed with {env:?}");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_harness_failure_replays_one_case_with_cargo_test() {
    let first = harness_child_with(&[("PACKTEST_SEED", HARNESS_SEED)]);
    // Each cause's replay, as printed in the panic message: it reruns the cause's case.
    let replays: Vec<&str> = first
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("replay: "))
        .filter(|l| l.contains("PACKTEST_CASE="))
        .collect();
    assert!(!replays.is_empty(), "a replay per cause:\n{first}");
    let failed: BTreeSet<String> = replays
        .iter()
        .filter_map(|l| l.split("PACKTEST_CASE=").nth(1))
        .filter_map(|r| r.split_whitespace().next())
        .map(|n| format!("case-{n}"))
        .collect();
    for line in &replays {
        let words = shell_words::split(line).expect("a shell line");
        let env: Vec<(&str, &str)> = words
            .iter()
            .take_while(|w| w.contains('='))
            .filter_map(|w| w.split_once('='))
            .collect();
        let rest: Vec<&str> = words[env.len()..].iter().map(String::as_str).collect();
        assert_eq!(
            rest,
            ["cargo", "test", "harness_child", "--", "--exact"],
            "`{line}` reruns the test by its name"
        );
        assert_eq!(env[0], ("PACKTEST_SEED", HARNESS_SEED), "{line}");
        let case = format!("case-{}", env[1].1);
        assert!(
            failed.contains(&case),
            "`{line}` names a case that did not fail"
        );
        let again = harness_child_with(&env);
        assert!(
            again.contains("(0 passed, 1 failed, 0 rejected"),
            "`{line}` did not rerun {case} alone:\n{again}"
        );
        assert!(
            again.contains(&format!("PACKTEST_CASE={}", env[1].1)),
            "`{line}` did not fail on {case} again:\n{again}"
        );
    }
}
