//! The scenario library as tests: every scenario loads, its declared expectations hold for the
//! detector and, for every deploy target, for the reference packager and the target's consumer
//! model; its snapshot (findings, then per target the reference archive or its refusal and what
//! the consumer makes of a typical `tar -C dir .` archive) matches; and `scenarios/README.md`
//! is what `packtest scenarios docs` renders now.

use std::path::Path;

use packtest::scenario::{
    observe, ConsumerExpectation, PackerExpectation, Scenario, ScenarioLibrary,
};
use packtest::target::Target;

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

#[test]
fn the_library_has_at_least_35_valid_scenarios() {
    let lib = ScenarioLibrary::load_dir(&dir()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        lib.scenarios.len() >= 35,
        "only {} scenarios",
        lib.scenarios.len()
    );
}

#[test]
fn every_scenario_meets_its_expectations_and_matches_its_snapshot() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    // Every scenario's expectation mismatches, reported together after every snapshot ran.
    let problems = std::sync::Mutex::new(Vec::<String>::new());
    let problem = |p: String| {
        eprintln!("{p}");
        problems.lock().unwrap().push(p);
    };
    settings.bind(|| {
        insta::glob!("../scenarios", "*.toml", |path| {
            let text = std::fs::read_to_string(path).unwrap();
            let (s, layout): (Scenario, _) =
                Scenario::parse(path, &text).unwrap_or_else(|e| panic!("{e}"));
            let obs = observe(&layout).unwrap_or_else(|e| panic!("{}: {e}", s.id));
            // Declared expectations, so a scenario cannot drift from its snapshot silently.
            let codes: Vec<&str> = obs.findings.iter().map(|f| f.code.id()).collect();
            for want in &s.expect.codes {
                if !codes.contains(&want.as_str()) {
                    problem(format!("{}: expected `{want}`, found {codes:?}", s.id));
                }
            }
            if s.expect.codes.is_empty()
                && s.tags.iter().any(|t| t == "negative-control")
                && !obs.findings.is_empty()
            {
                problem(format!(
                    "{}: a negative control has findings: {codes:?}",
                    s.id
                ));
            }
            let mut snap = String::from("findings (detector, default target):\n");
            for f in &obs.findings {
                let p = f
                    .path
                    .as_ref()
                    .map(|p| format!("{}:{}", f.root, p))
                    .unwrap_or_else(|| f.root.to_string());
                snap.push_str(&format!("  {} {} {}\n", f.severity.name(), f.code, p));
            }
            for t in Target::ALL {
                let want = s.expect.targets.get(t);
                let got = obs.target(t);
                let packed = if got.packed {
                    PackerExpectation::Succeeds
                } else {
                    PackerExpectation::Fails
                };
                if packed != want.reference_packager {
                    problem(format!(
                        "{}: target {}: the reference packager was expected to be {:?}, is {packed:?}: {:?}",
                        s.id,
                        t.id(),
                        want.reference_packager,
                        got.archive
                    ));
                }
                let consumer = if got.extracts {
                    ConsumerExpectation::Extracts
                } else {
                    ConsumerExpectation::Refuses
                };
                if consumer != want.typical_archive {
                    problem(format!(
                        "{}: target {}: the consumer was expected to be {:?} on a typical archive, is {consumer:?}: {:?}",
                        s.id,
                        t.id(),
                        want.typical_archive,
                        got.consumer
                    ));
                }
                snap.push_str(&format!(
                    "target {}:\n  reference packager:\n",
                    t.id()
                ));
                if t != Target::Sagemaker && got.archive == obs.target(Target::Sagemaker).archive
                {
                    snap.push_str("    (the same as for sagemaker)\n");
                } else {
                    for l in &got.archive {
                        snap.push_str(&format!("    {l}\n"));
                    }
                }
                snap.push_str("  consumer, on a typical archive (links stored as links):\n");
                for l in &got.consumer {
                    snap.push_str(&format!("    {l}\n"));
                }
            }
            insta::assert_snapshot!("scenario", snap);
        });
    });
    let problems = problems.into_inner().unwrap();
    assert!(
        problems.is_empty(),
        "{} expectation(s) do not hold:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_docs_page_is_up_to_date() {
    let lib = ScenarioLibrary::load_dir(&dir()).unwrap();
    let rendered = packtest::scenario::render_docs(&lib).unwrap();
    let on_disk = std::fs::read_to_string(dir().join("README.md")).unwrap_or_default();
    assert!(
        rendered == on_disk,
        "scenarios/README.md is stale; regenerate it: cargo run -- scenarios docs > scenarios/README.md"
    );
}
