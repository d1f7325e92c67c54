//! The detector is itself under test (DESIGN §3): on generated layouts, the set of error
//! codes it reports equals the set of injected error labels, exactly. No misses, and no error
//! on any clean layout of any framework profile. The same holds for the codes of
//! `strategy::WARNING_LABELS` (`symlink-in-model-dir`, `unreadable-by-server`,
//! `no-model-file`, `junk-files`): reported exactly when the layout carries the label.

use std::collections::BTreeSet;

use packtest::detect::{self, Code, DetectOptions, JobDirs, Severity};
use packtest::layout::{Layout, Sandbox, SandboxError};
use packtest::strategy::{clean_layout, job_layout, Profile, ERROR_LABELS, WARNING_LABELS};
use proptest::prelude::*;
use proptest::test_runner::Config;

fn config(cases: u32) -> Config {
    packtest::strategy::ci_config(cases, "PACKTEST_DETECT_SEED", 20_261_125)
}

/// The codes of the findings on the layout: errors, and the codes of `WARNING_LABELS`.
struct Codes {
    errors: BTreeSet<String>,
    labelled: BTreeSet<String>,
    text: String,
}

fn error_codes(layout: &Layout) -> Result<(BTreeSet<String>, String), TestCaseError> {
    let c = codes(layout)?;
    Ok((c.errors, c.text))
}

fn codes(layout: &Layout) -> Result<Codes, TestCaseError> {
    let sb = match Sandbox::materialize(layout) {
        Ok(s) => s,
        Err(SandboxError::Unsupported { .. }) => {
            return Err(TestCaseError::reject("the host cannot build it"))
        }
        Err(e) => return Err(TestCaseError::fail(e.to_string())),
    };
    let findings = detect::detect(&JobDirs::from_sandbox(&sb), &DetectOptions::default())
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let text = findings
        .iter()
        .map(|f| format!("{} {} {}:{:?}", f.severity.name(), f.code, f.root, f.path))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Codes {
        errors: findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.code.id().to_owned())
            .collect(),
        labelled: findings
            .iter()
            .filter(|f| WARNING_LABELS.contains(&f.code))
            .map(|f| f.code.id().to_owned())
            .collect(),
        text,
    })
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn error_and_labelled_warning_codes_equal_injected_labels(layout in job_layout()) {
        let labels = |set: &[Code]| -> BTreeSet<String> {
            layout.labels.iter().map(|l| l.0.clone()).filter(|l| set.iter().any(|c| c.id() == l)).collect()
        };
        let found = codes(&layout)?;
        prop_assert_eq!(&found.errors, &labels(&ERROR_LABELS), "findings:\n{}\nlayout:\n{}", found.text, layout.to_toml());
        prop_assert_eq!(&found.labelled, &labels(&WARNING_LABELS), "warnings: findings:\n{}\nlayout:\n{}", found.text, layout.to_toml());
    }
}

proptest! {
    #![proptest_config(config(40))]

    #[test]
    fn clean_layouts_of_every_profile_have_no_error(layouts in (
        clean_layout(Profile::Pytorch), clean_layout(Profile::Tensorflow), clean_layout(Profile::Huggingface),
        clean_layout(Profile::Xgboost), clean_layout(Profile::Sklearn), clean_layout(Profile::Arbitrary),
    )) {
        for layout in [layouts.0, layouts.1, layouts.2, layouts.3, layouts.4, layouts.5] {
            let (found, text) = error_codes(&layout)?;
            prop_assert!(found.is_empty(), "errors on a clean layout:\n{}\n{}", text, layout.to_toml());
        }
    }
}
