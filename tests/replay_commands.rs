//! Every replay command a report prints reproduces its failure when pasted into a shell.
//!
//! One failing run of a real command packager writes the text, JSON and JUnit reports and
//! saves its shrunk failures; every replay command found in the three reports is then run
//! with `sh -c`, as a user would paste it, and must fail again on the same case.

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
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("FAILED ") {
            case = first_word(rest);
        } else if let Some(rest) = line.strip_prefix("cause ") {
            // `cause 1 of 2: containment, in 3 cases: …`
            let prop = rest.split(": ").nth(1).and_then(|x| x.split(' ').next());
            case = prop.unwrap_or_default().to_owned();
        } else if let Some(rest) = line.trim_start().strip_prefix("replay: ") {
            let cmd = rest.split("  (case").next().unwrap_or(rest);
            out.insert((cmd.to_owned(), case.clone()));
        } else if let Some(rest) = line.trim_start().strip_prefix("saved: ") {
            let cmd = rest
                .split_once(" (replay: ")
                .map(|(_, c)| c.trim_end_matches(')'))
                .expect("a saved line names its replay");
            out.insert((cmd.to_owned(), format!("saved:*{case}")));
            // (after a `cause` line, `case` is the cause's property id)
        } else if let Some(cmd) = line.strip_prefix("replay the run: ") {
            out.insert((cmd.to_owned(), "*".into()));
        }
    }
    out
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

/// Runs one replay and checks that it fails again on `case` (`*`: on the same cases as the
/// run; `saved:*NAME`: on the saved failure of `NAME`).
fn assert_reproduces(cmd: &str, case: &str, failed: &BTreeSet<String>, cwd: &Path) {
    let out = sh(cmd, cwd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "`{cmd}` did not fail again:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = failed_cases(&stdout);
    match case.strip_prefix("saved:*") {
        _ if case == "*" => assert_eq!(&again, failed, "`{cmd}` failed on other cases"),
        Some(prop) => assert!(
            again
                .iter()
                .any(|c| c.starts_with("saved:") && c.contains(prop))
                && stdout.contains(&format!(": {prop} (")),
            "`{cmd}` did not fail on the saved failure of {prop}: {again:?}\n{stdout}"
        ),
        None => assert!(
            again.contains(case),
            "`{cmd}` did not fail on {case}: {again:?}"
        ),
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
        "packtest run --packager '{TAR}' --seed 11 --cases 12 --timeout 30 --jobs 2 --quiet \
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
    for (cmd, case) in t_.iter().chain(&x_) {
        assert_reproduces(cmd, case, &failed, t.path());
    }
}

#[test]
fn a_strict_baseline_failure_replays_under_the_strict_profile() {
    let t = tempfile::tempdir().expect("tempdir");
    let out = sh(
        &format!(
            "packtest run --packager '{TAR}' --seed 3 --cases 4 --strict --target posix --quiet"
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
