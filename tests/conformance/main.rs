//! Conformance: the full harness (generated cases and the scenario library) against the
//! packagers people really use, per deploy target, with the verdicts kept as snapshots.
//!
//! Rows: the reference packager, GNU tar, GNU tar in reproducible mode, GNU tar dereferencing
//! (`tar -czhf`), bsdtar, Python's tarfile, the real SageMaker SDK's `create_tar_file` and its
//! `repack_model` way (`add(dir, arcname=os.sep)`, both with the interpreter of the venv that
//! `tests/conformance/sdk-venv.sh` makes), and `py-deref-safe` (tarfile dereferencing internal
//! links and refusing the rest). Every row runs under the `sagemaker` and `posix` targets, in
//! the default and the strict profile, at a fixed seed; the snapshot of a row and a target
//! (`conformance_<row>_<target>`) lists the broken properties of each profile with the minimal
//! layout that shows each one, so a tool upgrade that changes behaviour shows up as a diff.
//! A row whose tool is missing FAILS with the install hint: a matrix with holes is not a
//! matrix. `tests/setup.sh` installs everything.
//!
//! The whole matrix, with the table printed: `cargo test --test conformance -- --nocapture`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use packtest::contract::Property;
use packtest::target::Target;
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

/// The interpreter of the pinned SDK venv, or why it is not usable.
fn sdk_python() -> Result<PathBuf, String> {
    let py = std::env::var_os("PACKTEST_SDK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/sdk-venv/bin/python3"));
    let ok = std::process::Command::new(&py)
        .args(["-c", "import sagemaker.core.common_utils"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Ok(py)
    } else {
        Err(format!(
            "no SageMaker SDK venv at `{}`: run tests/conformance/sdk-venv.sh (needs PyPI), or set PACKTEST_SDK_PYTHON",
            py.display()
        ))
    }
}

/// A row: its packager, its case count and shrink budget, or why it cannot run (which fails
/// the test: every cell of the matrix must be filled).
fn row(name: &str, target: Target) -> Result<(Box<dyn Packager>, u64, u32), String> {
    let cmd = |t: String| -> Result<Box<dyn Packager>, String> {
        CommandPackager::parse(&t)
            .map(|p| Box::new(p) as Box<dyn Packager>)
            .map_err(|e| e.to_string())
    };
    let need = |tools: &[&str], hint: &str| -> Result<(), String> {
        match tools.iter().find(|t| !have(t)) {
            Some(t) => Err(format!("`{t}` is not installed: {hint}")),
            None => Ok(()),
        }
    };
    let apt = "apt-get install tar gzip libarchive-tools python3 (tests/setup.sh installs them)";
    match name {
        // `packtest pack --target T` for the target the row is judged by.
        "reference" => Ok((Box::new(ReferencePackager::for_target(target)), 30, 24)),
        "gnu-tar" => {
            need(&["tar", "gzip"], apt)?;
            Ok((
                cmd(format!(
                    "sh {} {{model_dir}} {{output}}",
                    wrapper("gnu-tar.sh")
                ))?,
                30,
                24,
            ))
        }
        "gnu-tar-reproducible" => {
            need(&["tar", "gzip", "bash"], apt)?;
            Ok((
                cmd(format!(
                    "bash {} {{model_dir}} {{output}}",
                    wrapper("gnu-tar-reproducible.sh")
                ))?,
                30,
                24,
            ))
        }
        "gnu-tar-deref" => {
            need(&["tar", "gzip"], apt)?;
            Ok((
                cmd(format!(
                    "sh {} {{model_dir}} {{output}}",
                    wrapper("gnu-tar-deref.sh")
                ))?,
                // `tar -h` walks a directory cycle (`sub/up -> ..`) until its timeout: few
                // cases, a short timeout (see `timeout_for`).
                10,
                8,
            ))
        }
        "bsdtar" => {
            need(&["bsdtar"], apt)?;
            Ok((
                cmd(format!(
                    "sh {} {{model_dir}} {{output}}",
                    wrapper("bsdtar.sh")
                ))?,
                30,
                24,
            ))
        }
        "py-tarfile" => {
            need(&["python3"], apt)?;
            Ok((
                cmd(format!(
                    "python3 {} {{model_dir}} {{output}}",
                    wrapper("py-tarfile.py")
                ))?,
                12,
                12,
            ))
        }
        "py-deref-safe" => {
            need(&["python3"], apt)?;
            Ok((
                cmd(format!(
                    "python3 {} {{model_dir}} {{output}}",
                    wrapper("py-deref-safe.py")
                ))?,
                12,
                12,
            ))
        }
        "sagemaker-sdk" => {
            let py = sdk_python()?;
            Ok((
                cmd(format!(
                    "{} {} {{model_dir}} {{output}}",
                    py.display(),
                    wrapper("sagemaker-sdk.py")
                ))?,
                4,
                6,
            ))
        }
        "sagemaker-repack" => {
            let py = sdk_python()?;
            Ok((
                cmd(format!(
                    "{} {} {{model_dir}} {{output}}",
                    py.display(),
                    wrapper("sagemaker-repack.py")
                ))?,
                12,
                12,
            ))
        }
        other => Err(format!("`{other}` is not a conformance row")),
    }
}

/// A row's packager timeout: 60 s (the SDK's import alone takes seconds on a loaded machine),
/// 4 s for `tar -h`, which only ever reaches it on a directory cycle.
fn timeout_for(p: &dyn Packager) -> Duration {
    if p.name().contains("gnu-tar-deref") {
        Duration::from_secs(4)
    } else {
        Duration::from_secs(60)
    }
}

/// Runs one row in one profile: broken property -> the cases that break it and its minimal
/// layout.
fn verdicts(
    p: &dyn Packager,
    cases: u64,
    shrink: u32,
    target: Target,
    strict: bool,
) -> BTreeMap<String, Vec<String>> {
    let mut h = Harness::new(p)
        .target(target)
        .cases(cases)
        .seed(SEED)
        .jobs(2)
        .timeout(timeout_for(p))
        .max_shrink_runs(shrink)
        // Every case runs in both profiles: a packager whose strict profile fails on the
        // baseline is still judged on every scenario and generated case.
        .keep_going()
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
    for c in &report.causes {
        const SHOWN: usize = 12;
        let mut names = c
            .cases
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if c.cases.len() > SHOWN {
            names.push_str(&format!(" and {} more", c.cases.len() - SHOWN));
        }
        let mut lines = vec![format!("{} case(s): {names}", c.cases.len())];
        match &c.shrunk {
            Some(s) => {
                lines.push(format!("minimal layout, from {}:", c.representative));
                lines.extend(
                    packtest::report::render_layout(&s.layout)
                        .into_iter()
                        .map(|l| format!("  {l}")),
                );
            }
            None => lines.push(format!("not shrunk ({})", c.representative)),
        }
        out.entry(c.property.id().to_owned())
            .or_default()
            .extend(std::iter::once(format!("{}:", c.id())).chain(lines));
        // A cause folded into this one (the same cases, the same minimal layout) still breaks
        // its own property.
        for a in &c.also {
            out.entry(a.diagnosis.info().breaks.id().to_owned())
                .or_default()
                .push(format!(
                    "{}: folded into {} (the same cases and minimal layout)",
                    a.diagnosis.id(),
                    c.id()
                ));
        }
    }
    out
}

fn run_row(name: &str, target: Target) {
    let (p, cases, shrink) =
        row(name, target).unwrap_or_else(|reason| panic!("conformance row {name}: {reason}"));
    let started = std::time::Instant::now();
    // One run under the strict profile, every case (`keep_going`): its default properties are
    // the default profile's verdict (the strict profile only adds properties), so the matrix
    // judges both profiles at the cost of one run.
    let v = verdicts(p.as_ref(), cases, shrink, target, true);
    let strict_only: Vec<&str> = Property::STRICT.iter().map(|p| p.id()).collect();
    let mut text = String::new();
    for (profile, detail) in [("default", false), ("strict", true)] {
        let broken: Vec<&str> = v
            .keys()
            .map(String::as_str)
            .filter(|k| detail || !strict_only.contains(k))
            .collect();
        text.push_str(&format!(
            "{profile}: {}\n",
            if broken.is_empty() {
                "pass".to_string()
            } else {
                format!("FAIL {}", broken.join(", "))
            }
        ));
        // Each property's cases and minimal layouts are shown once: the default ones under
        // `default`, the strict ones under `strict`.
        for (prop, lines) in v
            .iter()
            .filter(|(k, _)| detail == strict_only.contains(&k.as_str()))
        {
            text.push_str(&format!("  {prop}:\n"));
            for l in lines {
                text.push_str(&format!("    {}\n", packtest::layout::redact_paths(l)));
            }
        }
    }
    println!(
        "== {name} --target {} ({:.0?})\n{text}",
        target.id(),
        started.elapsed()
    );
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(root().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.bind(|| insta::assert_snapshot!(format!("conformance_{name}_{}", target.id()), text));
}

/// One test per row and target, so the two test threads share the matrix evenly.
macro_rules! cells {
    ($($test:ident => $row:literal, $target:expr;)*) => {
        $(
            #[test]
            fn $test() {
                run_row($row, $target);
            }
        )*
    };
}

cells! {
    reference_sagemaker => "reference", Target::Sagemaker;
    reference_posix => "reference", Target::Posix;
    gnu_tar_sagemaker => "gnu-tar", Target::Sagemaker;
    gnu_tar_posix => "gnu-tar", Target::Posix;
    gnu_tar_reproducible_sagemaker => "gnu-tar-reproducible", Target::Sagemaker;
    gnu_tar_reproducible_posix => "gnu-tar-reproducible", Target::Posix;
    gnu_tar_deref_sagemaker => "gnu-tar-deref", Target::Sagemaker;
    gnu_tar_deref_posix => "gnu-tar-deref", Target::Posix;
    bsdtar_sagemaker => "bsdtar", Target::Sagemaker;
    bsdtar_posix => "bsdtar", Target::Posix;
    python_tarfile_sagemaker => "py-tarfile", Target::Sagemaker;
    python_tarfile_posix => "py-tarfile", Target::Posix;
    py_deref_safe_sagemaker => "py-deref-safe", Target::Sagemaker;
    py_deref_safe_posix => "py-deref-safe", Target::Posix;
    sagemaker_sdk_sagemaker => "sagemaker-sdk", Target::Sagemaker;
    sagemaker_sdk_posix => "sagemaker-sdk", Target::Posix;
    sagemaker_repack_sagemaker => "sagemaker-repack", Target::Sagemaker;
    sagemaker_repack_posix => "sagemaker-repack", Target::Posix;
}
