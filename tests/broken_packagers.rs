//! Deliberately broken packagers, one realistic defect each: every one must be caught by the
//! default run within 200 cases at a fixed seed, by the property that names the defect. The
//! nondeterministic one is caught only by `--strict`. A correct packager built the same way
//! is the control: it must pass (a false alarm is as serious as a miss).
//!
//! The packagers are in-process Rust `Packager`s built from one naive tar+gzip writer with a
//! defect switch (style anchor 20: behaviour chosen by a value, outcomes as data), plus
//! Python scripts for what only a process can show: the hang, and the non-reproducible
//! packagers (`tests/broken/reprolib.py` and the scripts that each break one of its hooks),
//! which `--strict` must blame on the one variation each depends on.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use packtest::outcome::CaseStatus;
use packtest::packager::{Exit, PackJob, PackOutcome, Packager};
use packtest::{CommandPackager, Harness};

#[path = "common/unavailable.rs"]
mod unavailable;

const SEED: u64 = 20_261_125;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Defect {
    None,
    WrongRoot,
    DropEmptyDirs,
    FollowSymlinks,
    DropDotfiles,
    TruncateLarge,
    ExitZeroNoArchive,
    PackWorkingDir,
    AbsoluteNames,
    CorruptGzipTrailer,
    LoseExecBits,
    DuplicateEntries,
    PartialOnFailure,
    SelfInclusion,
    MangledNames,
    Nondeterministic,
}

struct Naive(Defect);

fn tar_err(e: io::Error) -> String {
    e.to_string()
}

impl Naive {
    fn write(&self, model: &Path, out: &Path, cwd: &Path) -> Result<(), String> {
        let d = self.0;
        if d == Defect::ExitZeroNoArchive {
            return Ok(());
        }
        // A correct packager writes atomically; the partial-output defect writes in place.
        let target = if d == Defect::PartialOnFailure {
            out.to_owned()
        } else {
            out.with_extension("partial")
        };
        let r = self.write_to(model, &target, cwd);
        if d != Defect::PartialOnFailure && d != Defect::ExitZeroNoArchive {
            match &r {
                Ok(()) => fs::rename(&target, out).map_err(tar_err)?,
                Err(_) => {
                    let _ = fs::remove_file(&target);
                }
            }
        }
        r
    }

    fn write_to(&self, model: &Path, target: &Path, cwd: &Path) -> Result<(), String> {
        let d = self.0;
        // The archive is written inside the model dir while the walk runs (real-packagers.md
        // §6): when the walk reaches it, it packs the part of itself written so far.
        let inside = model.join("model.tar.gz");
        let writing = if d == Defect::SelfInclusion {
            inside.as_path()
        } else {
            target
        };
        let file = File::create(writing).map_err(tar_err)?;
        let mut gzb = flate2::GzBuilder::new();
        if d == Defect::Nondeterministic {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |t| t.as_secs() as u32);
            gzb = gzb.mtime(now);
        }
        let gz = gzb.write(file, flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        if d == Defect::SelfInclusion {
            // The gzip header reaches the file before the walk does.
            b.get_mut().flush().map_err(tar_err)?;
        }
        b.follow_symlinks(d == Defect::FollowSymlinks);
        b.preserve_absolute(d == Defect::AbsoluteNames);
        let mut roots = vec![model.to_owned()];
        if d == Defect::PackWorkingDir {
            roots.push(cwd.to_owned());
        }
        for root in roots {
            for entry in walkdir::WalkDir::new(&root)
                .min_depth(1)
                .sort_by_file_name()
            {
                let entry = entry.map_err(|e| e.to_string())?;
                let rel = entry
                    .path()
                    .strip_prefix(&root)
                    .map_err(|e| e.to_string())?
                    .to_owned();
                let meta = entry.path().symlink_metadata().map_err(tar_err)?;
                let name_bytes = rel.as_os_str().as_encoded_bytes();
                if d == Defect::DropDotfiles
                    && rel
                        .components()
                        .any(|c| c.as_os_str().as_encoded_bytes().starts_with(b"."))
                {
                    continue;
                }
                if d == Defect::DropEmptyDirs
                    && meta.is_dir()
                    && fs::read_dir(entry.path())
                        .map_err(tar_err)?
                        .next()
                        .is_none()
                {
                    continue;
                }
                if d == Defect::PartialOnFailure && meta.file_type().is_symlink() {
                    let _ = b.get_mut().flush();
                    return Err(format!("cannot pack symlink `{}`", entry.path().display()));
                }
                let mut name = rel.clone();
                if d == Defect::WrongRoot {
                    name = Path::new("model").join(&rel);
                }
                if d == Defect::AbsoluteNames {
                    name = Path::new("/").join(&rel);
                }
                if d == Defect::MangledNames {
                    name = String::from_utf8_lossy(name_bytes)
                        .replace('\u{fffd}', "?")
                        .into();
                }
                if d == Defect::LoseExecBits && meta.is_file() {
                    let mut h = tar::Header::new_gnu();
                    h.set_metadata(&meta);
                    h.set_mode(meta.mode() & 0o666);
                    let f = File::open(entry.path()).map_err(tar_err)?;
                    b.append_data(&mut h, &name, f).map_err(tar_err)?;
                    continue;
                }
                if d == Defect::TruncateLarge && meta.is_file() && meta.len() > 65_536 {
                    let mut h = tar::Header::new_gnu();
                    h.set_metadata(&meta);
                    h.set_size(65_536);
                    let f = File::open(entry.path()).map_err(tar_err)?;
                    b.append_data(&mut h, &name, io::Read::take(f, 65_536))
                        .map_err(tar_err)?;
                    continue;
                }
                if d == Defect::SelfInclusion && entry.path() == inside {
                    // The part of itself written so far, as a snapshot: a copy that read
                    // until EOF would chase its own growth.
                    let bytes = fs::read(&inside).map_err(tar_err)?;
                    let mut h = tar::Header::new_gnu();
                    h.set_metadata(&meta);
                    h.set_size(bytes.len() as u64);
                    b.append_data(&mut h, &name, bytes.as_slice())
                        .map_err(tar_err)?;
                    continue;
                }
                if meta.file_type().is_socket() {
                    continue;
                }
                if meta.file_type().is_fifo() {
                    let mut h = tar::Header::new_gnu();
                    h.set_metadata(&meta);
                    h.set_entry_type(tar::EntryType::Fifo);
                    h.set_size(0);
                    b.append_data(&mut h, &name, io::empty()).map_err(tar_err)?;
                    continue;
                }
                b.append_path_with_name(entry.path(), &name)
                    .map_err(tar_err)?;
                if d == Defect::DuplicateEntries && meta.is_file() {
                    b.append_path_with_name(entry.path(), &name)
                        .map_err(tar_err)?;
                }
            }
        }
        let gz = b.into_inner().map_err(tar_err)?;
        gz.finish().map_err(tar_err)?;
        if d == Defect::CorruptGzipTrailer {
            let mut bytes = fs::read(target).map_err(tar_err)?;
            let n = bytes.len();
            bytes[n - 8] ^= 0xff; // the CRC32
            fs::write(target, bytes).map_err(tar_err)?;
        }
        if d == Defect::SelfInclusion {
            fs::rename(&inside, target).map_err(tar_err)?;
        }
        Ok(())
    }
}

use std::os::unix::fs::FileTypeExt;

impl Packager for Naive {
    fn name(&self) -> String {
        format!("naive ({:?})", self.0)
    }
    fn pack(&self, job: &PackJob) -> PackOutcome {
        let start = std::time::Instant::now();
        let r = self.write(&job.model_dir, &job.output, &job.cwd);
        PackOutcome {
            exit: Exit::Code(if r.is_ok() { 0 } else { 1 }),
            stdout: vec![],
            stderr: r.err().unwrap_or_default().into_bytes(),
            duration: start.elapsed(),
        }
    }
}

fn broken_properties(p: impl Packager, strict: bool) -> std::collections::BTreeSet<String> {
    broken_with_report(p, strict).0
}

fn broken_with_report(
    p: impl Packager,
    strict: bool,
) -> (std::collections::BTreeSet<String>, String) {
    // The naive packager stores links and special files as they are: a POSIX packager, judged
    // by GNU tar's extraction. (Under `sagemaker` every link it keeps is `member-types`; see
    // `the_naive_packager_breaks_member_types_under_sagemaker`.)
    let mut h = Harness::new(p)
        .cases(200)
        .seed(SEED)
        .target(packtest::target::Target::Posix)
        .no_shrink()
        .timeout(Duration::from_secs(3));
    if strict {
        h = h.strict();
    }
    let outcome = h.run();
    let report = outcome
        .result
        .as_ref()
        .unwrap_or_else(|e| panic!("the run could not happen: {e}"));
    let text = packtest::report::text(report, Default::default());
    let set = report
        .results
        .iter()
        .filter_map(|c| match &c.status {
            CaseStatus::Failed { violations, .. } => Some(
                violations
                    .iter()
                    .map(|v| v.property.id().to_owned())
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    (set, text)
}

#[test]
fn the_correct_naive_packager_passes_the_default_profile() {
    let (broken, text) = broken_with_report(Naive(Defect::None), false);
    assert!(
        broken.is_empty(),
        "false alarm on a correct packager: {broken:?}\n{text}"
    );
}

#[test]
fn every_defect_is_caught_by_the_property_that_names_it() {
    let table = [
        (Defect::WrongRoot, "relative-names"),
        (Defect::DropEmptyDirs, "fidelity"),
        (Defect::FollowSymlinks, "fidelity"),
        (Defect::DropDotfiles, "fidelity"),
        (Defect::TruncateLarge, "fidelity"),
        (Defect::ExitZeroNoArchive, "exit-and-output"),
        (Defect::PackWorkingDir, "containment"),
        (Defect::AbsoluteNames, "relative-names"),
        (Defect::CorruptGzipTrailer, "valid-gzip"),
        (Defect::LoseExecBits, "fidelity"),
        (Defect::DuplicateEntries, "no-duplicates"),
        (Defect::PartialOnFailure, "loud-failure"),
        (Defect::SelfInclusion, "containment"),
        (Defect::MangledNames, "fidelity"),
    ];
    let mut missed = Vec::new();
    for (defect, property) in table {
        let broken = broken_properties(Naive(defect), false);
        if !broken.contains(property) {
            missed.push(format!("{defect:?}: expected `{property}`, got {broken:?}"));
        }
    }
    assert!(
        missed.is_empty(),
        "defects not caught by their property:\n{}",
        missed.join("\n")
    );
}

#[test]
fn a_packager_that_hangs_on_a_fifo_is_killed_and_reported_as_a_loud_failure() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken/hang_on_fifo.py");
    let mut perms = fs::metadata(&script).unwrap().permissions();
    perms.set_mode(0o755);
    let p = CommandPackager::parse(&format!(
        "python3 {} {{model_dir}} {{output}}",
        script.display()
    ))
    .unwrap();
    let broken = broken_properties(p, false);
    assert!(broken.contains("loud-failure"), "got {broken:?}");
}

#[test]
fn a_nondeterministic_packager_passes_the_default_profile_and_fails_strict() {
    let (broken, text) = broken_with_report(Naive(Defect::Nondeterministic), false);
    assert!(broken.is_empty(), "{text}");
    let strict = broken_properties(Naive(Defect::Nondeterministic), true);
    assert!(strict.contains("normalized"), "got {strict:?}");
}

/// The deploy target decides: the naive packager keeps links, which GNU tar extracts and
/// SageMaker hosting cannot, so it passes `posix` (above) and breaks `member-types` under the
/// default target; a packager that copies internal links and refuses escaping ones passes.
#[test]
fn the_naive_packager_breaks_member_types_under_sagemaker_and_a_dereferencing_one_passes() {
    let sagemaker = |p: Box<dyn Packager>, cases: u64| {
        let outcome = Harness::new(p)
            .cases(cases)
            .seed(SEED)
            .no_shrink()
            .timeout(Duration::from_secs(20))
            .run();
        let report = outcome.result.expect("the run happens");
        let text = packtest::report::text(&report, Default::default());
        let broken: std::collections::BTreeSet<String> = report
            .results
            .iter()
            .filter_map(|c| match &c.status {
                CaseStatus::Failed { violations, .. } => Some(violations.clone()),
                _ => None,
            })
            .flatten()
            .map(|v| v.property.id().to_owned())
            .collect();
        (broken, text)
    };
    let (broken, text) = sagemaker(Box::new(Naive(Defect::None)), 200);
    assert!(broken.contains("member-types"), "got {broken:?}\n{text}");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/wrappers/py-deref-safe.py");
    let p = CommandPackager::parse(&format!(
        "python3 {} {{model_dir}} {{output}}",
        script.display()
    ))
    .unwrap();
    let (broken, text) = sagemaker(Box::new(p), 40);
    assert!(
        broken.is_empty(),
        "a dereferencing, refusing packager fails sagemaker: {broken:?}\n{text}"
    );
}

/// A packager whose archive unpacks to far more than the sandbox holds (what following a
/// link to `/dev/zero` gives): the runner stops reading at its limit instead of inflating
/// it all, and names it a fidelity failure, not damage.
#[test]
fn an_archive_far_bigger_than_the_sandbox_is_cut_off_and_called_a_fidelity_failure() {
    // One member claiming 600 MiB of zeros: about 600 KiB of gzip, built once.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut tar = tar::Builder::new(&mut gz);
        let mut h = tar::Header::new_gnu();
        h.set_size(600 << 20);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, "model.bin", io::repeat(0).take(600 << 20))
            .unwrap();
        tar.finish().unwrap();
    }
    let bomb = gz.finish().unwrap();
    let p = packtest::packager::FnPackager::new("zero-stream", move |_m: &Path, out: &Path| {
        fs::write(out, &bomb).map_err(|e| e.to_string())
    });
    let outcome = Harness::new(p).cases(3).seed(SEED).no_shrink().run();
    let report = outcome.result.expect("the run happens");
    let mut seen = 0;
    for c in &report.results {
        let CaseStatus::Failed { violations, .. } = &c.status else {
            panic!("a case passed with a 600 MiB zero member: {:?}", c.status);
        };
        let v = violations
            .iter()
            .find(|v| v.property.id() == "fidelity")
            .unwrap_or_else(|| panic!("no fidelity violation: {violations:?}"));
        assert!(v.found.contains("reading stopped"), "{}", v.found);
        assert!(
            violations.iter().all(|v| v.property.id() != "valid-gzip"),
            "called damage: {violations:?}"
        );
        seen += 1;
    }
    // The baseline case fails, so the run stops there (DESIGN departure: baseline first).
    assert!(seen >= 1, "no case ran");
}

/// The deterministic violations of a strict run of three cases of `tests/broken/SCRIPT`.
fn deterministic_violations(script: &str) -> Vec<packtest::contract::Violation> {
    deterministic_run(script).0
}

/// The deterministic violations, and how many cases passed or failed (were judged).
fn deterministic_run(script: &str) -> (Vec<packtest::contract::Violation>, usize) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/broken")
        .join(script);
    strict_run(&script, 3)
}

/// A strict, unshrunk run of `cases` cases of the Python packager `script`: the deterministic
/// violations of its causes, and how many cases passed or failed (were judged).
fn strict_run(script: &Path, cases: u64) -> (Vec<packtest::contract::Violation>, usize) {
    let p = CommandPackager::parse(&format!(
        "python3 {} {{model_dir}} {{output}}",
        script.display()
    ))
    .unwrap();
    let outcome = Harness::new(p)
        .cases(cases)
        .seed(SEED)
        .target(packtest::target::Target::Posix)
        .strict()
        .no_shrink()
        .timeout(Duration::from_secs(20))
        .run();
    let report = outcome.result.expect("the run happens");
    let judged = report
        .results
        .iter()
        .filter(|c| matches!(c.status, CaseStatus::Passed | CaseStatus::Failed { .. }))
        .count();
    // The bisection runs once per cause (on its minimal layout, here its smallest case):
    // the variation is named in the cause's violations.
    let v = report
        .causes
        .iter()
        .filter(|c| c.property.id() == "deterministic")
        .flat_map(|c| c.violations.clone())
        .collect();
    (v, judged)
}

/// Each non-reproducible packager fails `deterministic`, and the bisection names the one
/// variation its defect depends on, and only that one.
fn assert_caused_by(script: &str, variation: &str) {
    let v = deterministic_violations(script);
    assert!(!v.is_empty(), "{script}: `deterministic` held");
    for x in &v {
        assert_eq!(
            x.found,
            format!("different bytes, caused by: {variation}"),
            "{script}: {x}"
        );
    }
}

/// A packager that stamps the clock (the gzip header's mtime from `time.time()`) is
/// nondeterministic by itself; no variation is blamed because its run fell in another second.
#[test]
fn a_packager_that_stamps_the_clock_is_nondeterministic_by_itself() {
    let v = deterministic_violations("clock_gzip.py");
    assert!(!v.is_empty(), "`deterministic` held");
    for x in &v {
        assert_eq!(x.found, "different bytes, even with nothing varied", "{x}");
    }
}

#[test]
fn a_packager_that_stores_umask_dependent_modes_is_blamed_on_the_umask() {
    assert_caused_by("umask_modes.py", "umask");
}

#[test]
fn a_packager_that_lists_in_readdir_order_is_blamed_on_the_readdir_order() {
    assert_caused_by("readdir_order.py", "readdir-order");
}

#[test]
fn a_packager_that_stamps_local_time_is_blamed_on_the_time_zone() {
    assert_caused_by("local_time.py", "tz");
}

#[test]
fn a_packager_that_half_honours_source_date_epoch_is_blamed_on_it() {
    assert_caused_by("sde_gzip_only.py", "source-date-epoch");
}

#[test]
fn a_compressor_with_cpu_dependent_blocks_is_blamed_on_the_cpu_count() {
    if packtest::process::allowed_cpus() < 2 {
        unavailable::unavailable(
            "the CPU-count variation",
            "packtest may use only one CPU here",
        );
        return;
    }
    assert_caused_by("cpu_blocks.py", "cpus");
    // The failure shows the diff: the gzip layer has another member count.
    let v = deterministic_violations("cpu_blocks.py");
    let details = v[0].details.join("\n");
    assert!(details.contains("gzip gzip-members: 2 -> 1"), "{details}");
}

/// The correct writer the broken ones share passes `deterministic` with every variation, on
/// cases that ran (not rejected).
#[test]
fn the_shared_reproducible_writer_passes_deterministic() {
    let (v, ran) = deterministic_run("reprolib.py");
    assert!(v.is_empty(), "{v:?}");
    assert!(ran >= 3, "only {ran} cases were judged");
}

/// A packager that cannot run as another user at all (a script in a root-only directory) is
/// not called nondeterministic: the uid variation is reported as not varied, and the rest of
/// the rerun still judges it.
#[test]
fn a_packager_that_cannot_run_as_another_user_is_not_blamed_on_the_uid() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        unavailable::unavailable("the uid variation", "packtest is not root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
    for f in ["reprolib.py", "umask_modes.py"] {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/broken")
            .join(f);
        fs::copy(&src, dir.path().join(f)).unwrap();
    }
    let (v, _) = strict_run(&dir.path().join("umask_modes.py"), 1);
    assert!(!v.is_empty(), "the umask defect was not seen");
    assert_eq!(v[0].found, "different bytes, caused by: umask", "{}", v[0]);
    let details = v[0].details.join("\n");
    assert!(
        details.contains("not varied: uid (the packager produced no archive as uid 65534"),
        "{details}"
    );
}

/// One line of `tests/broken/diagnoses/cases.txt`: a script, its target, its extra flags and
/// the diagnosis its one bug must be reported as (`none`: the control, which must pass).
struct DiagnosisCase {
    script: String,
    target: String,
    flags: Vec<String>,
    diagnosis: String,
}

fn diagnosis_cases() -> Vec<DiagnosisCase> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken/diagnoses");
    let text = fs::read_to_string(dir.join("cases.txt")).expect("cases.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(w.len(), 4, "cases.txt: `{l}`");
            let flags = match w[2] {
                "-" => Vec::new(),
                f => f
                    .split(',')
                    .flat_map(|x| x.splitn(2, '=').map(str::to_owned))
                    .collect(),
            };
            DiagnosisCase {
                script: w[0].into(),
                target: w[1].into(),
                flags,
                diagnosis: w[3].into(),
            }
        })
        .collect()
}

/// The cause ids a `--quiet` report names: `[id, N cases]` for a diagnosis, `property
/// (kind)` for a failure no diagnosis explains.
fn named_causes(report: &str) -> Vec<String> {
    report
        .lines()
        .filter_map(|l| {
            let t = l.trim_start();
            if let Some(rest) = t.strip_prefix('[') {
                return rest.split(',').next().map(str::to_owned);
            }
            let (n, rest) = t.split_once(". ")?;
            (n.parse::<u32>().is_ok() && rest.contains("no diagnosis fits"))
                .then(|| rest.split(':').next().unwrap_or_default().to_owned())
        })
        .collect()
}

/// Each broken packager under `tests/broken/diagnoses/` has one bug, written the way platform
/// engineers write packagers; its report must name that bug's diagnosis, its fix, and no
/// other cause, over 8 generated cases and the whole scenario library. The control (the
/// same packager without the bug, which also refuses an empty model dir) must pass every
/// target. The quiet reports are snapshots, reviewed by hand.
#[test]
fn each_broken_packager_is_reported_as_its_one_diagnosis_with_its_fix() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut wrong = Vec::new();
    for c in diagnosis_cases() {
        let packager = format!(
            "python3 tests/broken/diagnoses/{} {{model_dir}} {{output}} --target {}",
            c.script, c.target
        );
        let out = assert_cmd::Command::cargo_bin("packtest")
            .expect("the binary")
            .current_dir(root)
            .env_remove("PACKTEST_SEED")
            .args(["run", "--packager", &packager, "--target", &c.target])
            .args([
                "--seed", "1", "--cases", "8", "--jobs", "2", "--quiet", "--redact",
            ])
            .args(&c.flags)
            .output()
            .expect("packtest runs");
        let report = String::from_utf8_lossy(&out.stdout).into_owned();
        let causes = named_causes(&report);
        if c.diagnosis == "none" {
            if out.status.code() != Some(0) || !causes.is_empty() {
                wrong.push(format!(
                    "{} ({}): the control must pass\n{report}",
                    c.script, c.target
                ));
            }
            continue;
        }
        let fix_shown = report.lines().any(|l| l.trim_start().starts_with("fix: "));
        if out.status.code() != Some(1) || causes != [c.diagnosis.clone()] || !fix_shown {
            wrong.push(format!(
                "{}: expected exactly `{}` with its fix, got {causes:?}\n{report}",
                c.script, c.diagnosis
            ));
            continue;
        }
        let name = c.script.trim_end_matches(".py").to_owned();
        let mut s = insta::Settings::clone_current();
        s.set_snapshot_path(root.join("snapshots"));
        s.set_prepend_module_to_snapshot(false);
        s.set_snapshot_suffix(name);
        s.bind(|| insta::assert_snapshot!("diagnosis", report));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// The README's "Test your own packager" shows packtest's real `--quiet` report on a packager
/// that packs with a shell `*` (`tests/broken/glob_star.sh`): one cause per bug, the dot-names
/// among them. This test regenerates it; `PACKTEST_BLESS=1` writes it into the README.
#[test]
fn the_readme_shows_the_real_report_of_a_glob_packager() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = assert_cmd::Command::cargo_bin("packtest")
        .expect("the binary")
        .current_dir(root)
        .env_remove("PACKTEST_SEED")
        .args([
            "run",
            "--packager",
            "sh tests/broken/glob_star.sh {model_dir} {output}",
        ])
        .args([
            "--seed", "1", "--cases", "64", "--jobs", "2", "--quiet", "--redact",
        ])
        .output()
        .expect("packtest runs");
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        report.contains("names that start with `.` are missing"),
        "{report}"
    );
    assert!(report.lines().count() <= 40, "{report}");
    let causes = named_causes(&report);
    let mut unique = causes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), causes.len(), "{report}");
    let block = format!("```text\n$ packtest run --packager 'sh glob_star.sh {{model_dir}} {{output}}' --seed 1 --cases 64 --quiet\n{report}```\n");
    let (open, close) = ("<!-- report:glob_star -->\n", "<!-- /report:glob_star -->");
    let readme_path = root.join("README.md");
    let readme = fs::read_to_string(&readme_path).expect("README");
    let start = readme.find(open).expect("the README's report block") + open.len();
    let end = readme.find(close).expect("the block's end");
    if std::env::var_os("PACKTEST_BLESS").is_some() {
        let updated = format!("{}{block}{}", &readme[..start], &readme[end..]);
        fs::write(&readme_path, updated).expect("README written");
        return;
    }
    assert_eq!(
        &readme[start..end],
        block,
        "the README's report block is stale: rerun with PACKTEST_BLESS=1 and review the diff"
    );
}
