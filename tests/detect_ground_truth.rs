//! The detector is itself under test: on generated layouts, what it reports equals
//! what the generator injected, by (code, root, path), counts included, warnings included, on
//! every target. The generator's ground truth is the [`Truth`] of each case: every piece
//! promises its findings ([`packtest::strategy::Promise`]), for the codes of [`PROMISED`].
//!
//! Two views are compared on each case, under each of `sagemaker`, `posix` and `kserve`:
//! - the model dir (`detect::detect`, with the working dir, `/tmp` and output dir): every
//!   promised code but `link-in-archive`; `symlink-in-model-dir` and `unreadable-by-server`
//!   only where the target's spec says so;
//! - the archive the reference packager writes for `posix` (every member stored as it is):
//!   `link-in-archive` (`detect::detect_archive`). A layout with an unreadable file cannot be
//!   packed, so its archive view is left out (counted in the tally).
//!
//! No error on any clean layout of any framework profile, either.
//!
//! `unreadable-file` needs a user who cannot read a mode-0000 file: root reads everything.
//! The generator draws such files only when the effective uid is not 0
//! (`StrategyConfig::every_pitfall`); run as root (CI does), the every-pitfall test runs a
//! second time in a child process of this binary as `nobody` (uid and gid 65534), and a host
//! where that fails says so through `unavailable` (a failure under `CI=true`).
//!
//! Run with `--nocapture` to see the tally: cases, pairs checked, codes covered, time.

#[path = "common/unavailable.rs"]
mod unavailable;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Instant;

use packtest::archive::{Limits, Manifest};
use packtest::detect::{self, Code, DetectOptions, Finding, JobDirs};
use packtest::layout::{Sandbox, SandboxError};
use packtest::packager::{ArchiveFormat, PackOptions, ReferencePackager};
use packtest::strategy::{
    clean_layout, is_root, job_case_with, Case, CodePath, Profile, StrategyConfig, PROMISED,
};
use packtest::target::Target;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestError, TestRunner};

fn config(cases: u32) -> Config {
    packtest::strategy::ci_config(cases, "PACKTEST_DETECT_SEED", 20_261_125)
}

/// Set in the child process that reruns the every-pitfall test as another user.
const CHILD_VAR: &str = "PACKTEST_TRUTH_AS_NOBODY";

/// What the passing cases checked.
#[derive(Default)]
struct Tally {
    cases: usize,
    pairs: usize,
    codes: BTreeSet<Code>,
    archive_views_left_out: usize,
}

/// The findings of promised codes, as (code, root, path), sorted, repeats kept.
fn pairs(findings: &[Finding], archive: bool) -> Vec<CodePath> {
    let mut v: Vec<CodePath> = findings
        .iter()
        .filter(|f| PROMISED.contains(&f.code) && (f.code == Code::LinkInArchive) == archive)
        .map(|f| CodePath {
            code: f.code,
            root: f.root,
            path: f.path.clone(),
        })
        .collect();
    v.sort();
    v
}

/// Expected and found (code, path) pairs side by side, with the truth and the layout.
fn diff(view: &str, target: Target, want: &[CodePath], got: &[CodePath], case: &Case) -> String {
    let mut s = format!("{view} under target {target}: the (code, path) pairs differ\n");
    for w in want.iter().filter(|w| !got.contains(w)) {
        let _ = writeln!(s, "  - expected, not found: {w}");
    }
    let mut rest = want.to_vec();
    for g in got {
        match rest.iter().position(|w| w == g) {
            Some(i) => {
                rest.remove(i);
            }
            None => {
                let _ = writeln!(s, "  + found, not expected: {g}");
            }
        }
    }
    let list = |v: &[CodePath]| v.iter().map(|p| format!("    {p}\n")).collect::<String>();
    let _ = write!(
        s,
        "expected:\n{}found:\n{}promises:\n{}layout:\n{}",
        list(want),
        list(got),
        case.truth,
        case.layout.to_toml()
    );
    s
}

/// Compares one view under one target, and counts it.
fn compare(
    view: &str,
    target: Target,
    want: Vec<CodePath>,
    got: Vec<CodePath>,
    case: &Case,
    tally: &RefCell<Tally>,
) -> Result<(), TestCaseError> {
    if want != got {
        return Err(TestCaseError::fail(diff(view, target, &want, &got, case)));
    }
    let mut t = tally.borrow_mut();
    t.pairs += want.len();
    t.codes.extend(want.iter().map(|p| p.code));
    Ok(())
}

/// The archive of the model dir with every member stored as it is (links as links).
fn posix_archive(sb: &Sandbox) -> Result<Manifest, TestCaseError> {
    let out = sb.root().join("out/model.tar");
    let packager = ReferencePackager {
        options: PackOptions {
            level: 1,
            threads: 1,
            format: ArchiveFormat::Tar,
            target: Target::Posix,
            ..PackOptions::default()
        },
    };
    packager
        .pack_dir(&sb.model_dir(), &out)
        .map_err(|e| TestCaseError::fail(format!("packing for posix: {e}")))?;
    Manifest::read_path(&out, Limits::default())
        .map_err(|e| TestCaseError::fail(format!("reading the archive: {e}")))
}

/// Checks both views of one case under every target.
fn check(case: &Case, tally: &RefCell<Tally>) -> Result<(), TestCaseError> {
    let sb = match Sandbox::materialize(&case.layout) {
        Ok(s) => s,
        Err(SandboxError::Unsupported { .. }) => {
            return Err(TestCaseError::reject("the host cannot build it"))
        }
        Err(e) => return Err(TestCaseError::fail(e.to_string())),
    };
    let dirs = JobDirs::from_sandbox(&sb);
    for target in Target::ALL {
        let opts = DetectOptions {
            target,
            ..DetectOptions::default()
        };
        let found = detect::detect(&dirs, &opts).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let want = case.truth.expected(target, false);
        compare(
            "the model dir",
            target,
            want,
            pairs(&found, false),
            case,
            tally,
        )?;
    }
    if case.truth.promises_code(Code::UnreadableFile) {
        tally.borrow_mut().archive_views_left_out += 1;
    } else {
        let manifest = posix_archive(&sb)?;
        for target in Target::ALL {
            let opts = DetectOptions {
                target,
                ..DetectOptions::default()
            };
            let found = detect::detect_archive(&manifest, &opts);
            let want = case.truth.expected(target, true);
            compare(
                "the archive",
                target,
                want,
                pairs(&found, true),
                case,
                tally,
            )?;
        }
    }
    tally.borrow_mut().cases += 1;
    Ok(())
}

/// Runs `cases` cases of `cfg`'s layouts through [`check`]; panics with the shrunk case's
/// diff on a failure. Returns the tally of the passing run.
fn run(cfg: StrategyConfig, cases: u32, name: &str) -> Tally {
    let started = Instant::now();
    let tally = RefCell::new(Tally::default());
    let result =
        TestRunner::new(config(cases)).run(&job_case_with(cfg), |case| check(&case, &tally));
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, _)) => panic!(
            "{why}\n(cases drawn from PACKTEST_DETECT_SEED, default 20261125: set it to another seed to explore)"
        ),
        Err(e) => panic!("{e}"),
    }
    let t = tally.into_inner();
    println!(
        "{name}: {} cases, {} (code, path) pairs checked, {} codes covered ({}), {} archive views left out, {:.1} s",
        t.cases,
        t.pairs,
        t.codes.len(),
        t.codes.iter().map(|c| c.id()).collect::<Vec<_>>().join(", "),
        t.archive_views_left_out,
        started.elapsed().as_secs_f64()
    );
    t
}

/// The default generator (the layouts `packtest run` draws), seed for seed as before.
#[test]
fn findings_equal_promises_by_code_and_path_on_default_layouts() {
    run(StrategyConfig::default(), 1000, "default layouts");
}

/// Every pitfall, the knobs that are off by default included; every promised code must show
/// up (`unreadable-file` only for a user other than root).
#[test]
fn findings_equal_promises_by_code_and_path_with_every_pitfall() {
    let t = run(StrategyConfig::every_pitfall(), 400, "every pitfall");
    let missing: Vec<&str> = PROMISED
        .iter()
        .filter(|c| {
            let root_cannot = is_root() && **c == Code::UnreadableFile;
            !t.codes.contains(c) && !root_cannot
        })
        .map(|c| c.id())
        .collect();
    assert!(
        missing.is_empty(),
        "no case promised (and so checked) {missing:?}"
    );
}

/// As root, the every-pitfall test again as `nobody`, where mode-0000 files are unreadable.
#[test]
fn unreadable_files_are_found_by_path_as_another_user() {
    use std::os::unix::process::CommandExt;
    if !is_root() || std::env::var_os(CHILD_VAR).is_some() {
        // Not root: the every-pitfall test draws unreadable files itself.
        return;
    }
    let what = "unreadable-file ground truth as uid 65534";
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return unavailable::unavailable(what, &format!("no test binary path: {e}")),
    };
    let out = std::process::Command::new(exe)
        .args([
            "findings_equal_promises_by_code_and_path_with_every_pitfall",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD_VAR, "1")
        .uid(65534)
        .gid(65534)
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => return unavailable::unavailable(what, &format!("cannot run as uid 65534: {e}")),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("as uid 65534: {stdout}");
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the every-pitfall ground truth failed as uid 65534 ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

proptest! {
    #![proptest_config(config(40))]

    #[test]
    fn clean_layouts_of_every_profile_have_no_error(layouts in (
        clean_layout(Profile::Pytorch), clean_layout(Profile::Tensorflow), clean_layout(Profile::Huggingface),
        clean_layout(Profile::Xgboost), clean_layout(Profile::Sklearn), clean_layout(Profile::Arbitrary),
    )) {
        for layout in [layouts.0, layouts.1, layouts.2, layouts.3, layouts.4, layouts.5] {
            let sb = match Sandbox::materialize(&layout) {
                Ok(s) => s,
                Err(SandboxError::Unsupported { .. }) => return Err(TestCaseError::reject("the host cannot build it")),
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            };
            let found = detect::detect(&JobDirs::from_sandbox(&sb), &DetectOptions::default())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let errors: Vec<String> = found.iter().filter(|f| f.severity == detect::Severity::Error).map(|f| format!("{} {}:{:?}", f.code, f.root, f.path)).collect();
            prop_assert!(errors.is_empty(), "errors on a clean layout:\n{}\n{}", errors.join("\n"), layout.to_toml());
        }
    }
}
