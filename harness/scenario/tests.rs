//! Unit tests of scenario loading and rendering.

use super::*;

const GOOD: &str = r#"
id = "x-y"
title = "t"
summary = "s"
sources = ["https://example.com/a"]
framework = "generic"
fix = "f"
[expect]
codes = ["empty-model-dir"]
[expect.targets.sagemaker]
reference_packager = "succeeds"
typical_archive = "extracts"
consumer = "c"
[expect.targets.posix]
reference_packager = "succeeds"
typical_archive = "extracts"
consumer = "c"
[expect.targets.kserve]
reference_packager = "fails"
typical_archive = "refuses"
consumer = "c"
[layout]
"#;

fn parse(name: &str, text: &str) -> Result<(Scenario, Layout), ScenarioError> {
    Scenario::parse(Path::new(name), text)
}

#[test]
fn a_valid_scenario_parses() {
    let (s, _) = parse("x-y.toml", GOOD).unwrap();
    assert_eq!(
        s.expect.targets.get(Target::Kserve).reference_packager,
        PackerExpectation::Fails
    );
    assert_eq!(s.expect.reference_packager, PackerExpectation::Succeeds);
}

#[test]
fn every_target_is_required_and_the_old_key_is_named() {
    let cut = GOOD.find("[expect.targets.kserve]").unwrap();
    let missing = format!("{}[layout]\n", &GOOD[..cut]);
    let e = parse("x-y.toml", &missing).unwrap_err().to_string();
    assert!(e.contains("kserve"), "{e}");
    let e = parse(
        "x-y.toml",
        &GOOD.replace(
            "[expect.targets.posix]",
            "[expect.targets.torchserve]\nreference_packager = \"fails\"\n[expect.targets.posix]",
        ),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("torchserve"), "{e}");
    let e = parse(
        "x-y.toml",
        &GOOD.replace(
            "codes = [\"empty-model-dir\"]",
            "codes = []\nreference_packager = \"succeeds\"",
        ),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("[expect.targets.<target>]"), "{e}");
    let e = parse(
        "x-y.toml",
        &GOOD.replacen("consumer = \"c\"", "consumer = \" \"", 1),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("expect.targets.sagemaker.consumer"), "{e}");
}

#[test]
fn loading_rejects_unknown_keys_bad_ids_bad_sources_and_bad_layouts() {
    let e = parse(
        "x-y.toml",
        &GOOD.replace("fix = \"f\"", "fix = \"f\"\ncolour = 1"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("colour"), "{e}");
    let e = parse("other.toml", GOOD).unwrap_err().to_string();
    assert!(e.contains("does not match the file name"), "{e}");
    let e = parse(
        "x-y.toml",
        &GOOD.replace("https://example.com/a", "see the docs"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("not an http(s) URL"), "{e}");
    let bad_layout =
        format!("{GOOD}[[layout.entry]]\nroot = \"model\"\npath = \"../x\"\nkind = \"dir\"\n");
    let e = parse("x-y.toml", &bad_layout).unwrap_err().to_string();
    assert!(e.contains("layout"), "{e}");
    let e = parse("X_Y.toml", &GOOD.replace("x-y", "X_Y"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("kebab-case"), "{e}");
}

#[test]
fn a_duplicate_id_is_rejected() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("x-y.toml"), GOOD).unwrap();
    let lib = ScenarioLibrary::load_dir(d.path()).unwrap();
    assert_eq!(lib.scenarios.len(), 1);
    assert!(matches!(
        lib.get("nope"),
        Err(ScenarioError::Unknown { .. })
    ));
}
