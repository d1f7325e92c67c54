//! Snapshots of the text report and the JUnit XML of a run with known failures.
//!
//! The packager keeps regular files only (it drops directories, symlinks and FIFOs), so the
//! fixed-seed run fails `fidelity` and `special-files` on known cases. Durations and sandbox
//! paths are redacted; shrinking is deterministic, so the minimal layouts are stable.

use std::fs::File;
use std::path::Path;

use packtest::packager::FnPackager;
use packtest::report::{self, TextOptions};
use packtest::Harness;

fn files_only(model: &Path, out: &Path) -> Result<(), String> {
    let f = File::create(out).map_err(|e| e.to_string())?;
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
        f,
        flate2::Compression::fast(),
    ));
    for e in walkdir::WalkDir::new(model)
        .min_depth(1)
        .sort_by_file_name()
    {
        let e = e.map_err(|e| e.to_string())?;
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(model).map_err(|e| e.to_string())?;
            b.append_path_with_name(e.path(), rel)
                .map_err(|e| e.to_string())?;
        }
    }
    b.into_inner()
        .and_then(|g| g.finish())
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn text_and_junit_reports_of_a_failing_run_are_stable() {
    let r = Harness::new(FnPackager::new("files-only", files_only))
        .cases(12)
        .seed(99)
        .jobs(2)
        .no_baseline()
        .run();
    let report = r.result.expect("the run happens");
    assert!(!report.ok(), "the files-only packager must fail");
    let opts = TextOptions {
        redact: true,
        ..TextOptions::default()
    };
    settings().bind(|| {
        insta::assert_snapshot!("report_text_files_only", report::text(&report, opts));
        insta::assert_snapshot!("report_junit_files_only", report::junit(&report, opts));
    });
}
