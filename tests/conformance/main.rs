//! Conformance: the full harness (generated cases and the scenario library) against the
//! packagers people really use, with the verdicts kept as snapshots.
//!
//! Rows: the reference packager, GNU tar, GNU tar in reproducible mode, bsdtar, Python's
//! tarfile, and the real SageMaker SDK's `create_tar_file` (from the venv that
//! `tests/conformance/sdk-venv.sh` makes). A row whose tool is missing is skipped with a
//! printed reason; `.ci/run` installs all of them. Each row runs the default and the strict
//! profile at a fixed seed, and its snapshot lists the broken properties with the minimal
//! layout that shows each one, so a tool upgrade that changes behaviour shows up as a diff.
//!
//! The whole matrix, with the table printed: `cargo test --test conformance -- --nocapture`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use packtest::runner::CaseStatus;
use packtest::{CommandPackager, Harness, Packager, ReferencePackager};

const SEED: u64 = 8;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have(cmd: &str) -> bool {
    std::process::Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn wrapper(name: &str) -> String {
    root()
        .join("tests/conformance/wrappers")
        .join(name)
        .display()
        .to_string()
}

/// A row: its packager, its case count and shrink budget, or why it is skipped.
fn row(name: &str) -> Result<(Box<dyn Packager>, u64, u32), String> {
    let cmd = |t: String| -> Result<Box<dyn Packager>, String> {
        CommandPackager::parse(&t)
            .map(|p| Box::new(p) as Box<dyn Packager>)
            .map_err(|e| e.to_string())
    };
    match name {
        "reference" => Ok((Box::new(ReferencePackager::new()), 60, 40)),
        "gnu-tar" if have("tar") => Ok((
            cmd(format!(
                "sh {} {{model_dir}} {{output}}",
                wrapper("gnu-tar.sh")
            ))?,
            60,
            40,
        )),
        "gnu-tar-reproducible" if have("tar") && have("gzip") => Ok((
            cmd(format!(
                "bash {} {{model_dir}} {{output}}",
                wrapper("gnu-tar-reproducible.sh")
            ))?,
            60,
            40,
        )),
        "bsdtar" if have("bsdtar") => Ok((
            cmd(format!(
                "sh {} {{model_dir}} {{output}}",
                wrapper("bsdtar.sh")
            ))?,
            60,
            40,
        )),
        "py-tarfile" if have("python3") => Ok((
            cmd(format!(
                "python3 {} {{model_dir}} {{output}}",
                wrapper("py-tarfile.py")
            ))?,
            40,
            24,
        )),
        "sagemaker-sdk" => {
            let py = std::env::var_os("PACKTEST_SDK_PYTHON")
                .map(PathBuf::from)
                .unwrap_or_else(|| root().join("target/sdk-venv/bin/python3"));
            let ok = std::process::Command::new(&py)
                .args(["-c", "import sagemaker.core.common_utils"])
                .output()
                .is_ok_and(|o| o.status.success());
            if !ok {
                return Err(format!(
                    "no SageMaker SDK venv at `{}`; run tests/conformance/sdk-venv.sh (needs PyPI)",
                    py.display()
                ));
            }
            Ok((
                cmd(format!(
                    "{} {} {{model_dir}} {{output}}",
                    py.display(),
                    wrapper("sagemaker-sdk.py")
                ))?,
                10,
                6,
            ))
        }
        other => Err(format!("`{other}` is not installed (.ci/run installs it)")),
    }
}

/// Runs one row in one profile: broken property -> minimal layout lines of its first case.
fn verdicts(
    p: &dyn Packager,
    cases: u64,
    shrink: u32,
    strict: bool,
) -> BTreeMap<String, Vec<String>> {
    let mut h = Harness::new(p)
        .cases(cases)
        .seed(SEED)
        .jobs(2)
        .timeout(Duration::from_secs(20))
        .max_shrink_runs(shrink)
        .scenarios_dir(root().join("scenarios"))
        .unwrap_or_else(|e| panic!("{e}"));
    if strict {
        h = h.strict();
    }
    let report = h
        .run()
        .result
        .unwrap_or_else(|e| panic!("{}: the run could not happen: {e}", p.name()));
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in &report.results {
        if let CaseStatus::Failed { violations, shrunk } = &c.status {
            for v in violations {
                out.entry(v.property.id().to_owned()).or_insert_with(|| {
                    let layout = shrunk
                        .as_ref()
                        .map(|s| packtest::report::render_layout(&s.layout))
                        .unwrap_or_else(|| {
                            vec!["(the layout of that scenario or of the baseline, as it is)"
                                .to_string()]
                        });
                    let mut lines = vec![format!("first seen in {}", c.name)];
                    lines.extend(layout);
                    lines
                });
            }
        }
    }
    out
}

fn run_row(name: &str) {
    let (p, cases, shrink) = match row(name) {
        Ok(r) => r,
        Err(reason) => {
            eprintln!("conformance: skipped {name}: {reason}");
            return;
        }
    };
    let mut text = String::new();
    for (profile, strict) in [("default", false), ("strict", true)] {
        let v = verdicts(p.as_ref(), cases, shrink, strict);
        let broken: Vec<&str> = v.keys().map(String::as_str).collect();
        text.push_str(&format!(
            "{profile}: {}\n",
            if broken.is_empty() {
                "pass".to_string()
            } else {
                format!("FAIL {}", broken.join(", "))
            }
        ));
        for (prop, lines) in &v {
            text.push_str(&format!("  {prop}:\n"));
            for l in lines {
                text.push_str(&format!("    {}\n", packtest::report::redact_paths(l)));
            }
        }
    }
    println!("== {name}\n{text}");
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(root().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.bind(|| insta::assert_snapshot!(format!("conformance_{name}"), text));
}

#[test]
fn reference_packager_verdicts() {
    run_row("reference");
}

#[test]
fn gnu_tar_verdicts() {
    run_row("gnu-tar");
}

#[test]
fn gnu_tar_reproducible_verdicts() {
    run_row("gnu-tar-reproducible");
}

#[test]
fn bsdtar_verdicts() {
    run_row("bsdtar");
}

#[test]
fn python_tarfile_verdicts() {
    run_row("py-tarfile");
}

#[test]
fn sagemaker_sdk_verdicts() {
    run_row("sagemaker-sdk");
}
