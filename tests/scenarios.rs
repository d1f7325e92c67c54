//! The scenario library as tests: every scenario loads, its declared expectations hold for the
//! detector and the reference packager, its snapshot (archive manifest and findings) matches,
//! and `scenarios/README.md` is what `packtest scenarios docs` renders now.

use std::path::Path;

use packtest::scenario::{observe, PackerExpectation, Scenario, ScenarioLibrary};

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
    settings.bind(|| {
        insta::glob!("../scenarios", "*.toml", |path| {
            let text = std::fs::read_to_string(path).unwrap();
            let (s, layout): (Scenario, _) =
                Scenario::parse(path, &text).unwrap_or_else(|e| panic!("{e}"));
            let obs = observe(&layout).unwrap_or_else(|e| panic!("{}: {e}", s.id));
            // Declared expectations, so a scenario cannot drift from its snapshot silently.
            let codes: Vec<&str> = obs.findings.iter().map(|f| f.code).collect();
            for want in &s.expect.codes {
                assert!(
                    codes.contains(&want.as_str()),
                    "{}: expected `{want}`, found {codes:?}",
                    s.id
                );
            }
            if s.expect.codes.is_empty() && s.tags.iter().any(|t| t == "negative-control") {
                assert!(
                    obs.findings.is_empty(),
                    "{}: a negative control has findings: {codes:?}",
                    s.id
                );
            }
            let packed = if obs.packed {
                PackerExpectation::Succeeds
            } else {
                PackerExpectation::Fails
            };
            assert_eq!(
                packed, s.expect.reference_packager,
                "{}: reference packager",
                s.id
            );
            let mut snap = String::from("archive (reference packager):\n");
            for l in &obs.archive {
                snap.push_str(&format!("  {l}\n"));
            }
            snap.push_str("findings:\n");
            for f in &obs.findings {
                let p = f
                    .path
                    .as_ref()
                    .map(|p| format!("{}:{}", f.root, p))
                    .unwrap_or_else(|| f.root.to_string());
                snap.push_str(&format!("  {} {} {}\n", f.severity.name(), f.code, p));
            }
            insta::assert_snapshot!("scenario", snap);
        });
    });
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
