//! The reference packager round-trips generated trees (pack, read the manifest, diff is
//! empty), and re-packs byte-identically after the mtimes move.

use packtest::archive::{DiskTree, Limits, Manifest};
use packtest::layout::{Sandbox, SandboxError};
use packtest::strategy::{job_layout_with, StrategyConfig};
use packtest::ReferencePackager;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Deterministic in CI: a fixed RNG seed unless PROPTEST_RNG_SEED says otherwise.
fn config(cases: u32) -> Config {
    packtest::strategy::ci_config(cases, "PROPTEST_RNG_SEED", 1125)
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn pack_then_read_gives_an_empty_diff(layout in job_layout_with(StrategyConfig { deep_paths: true, ..StrategyConfig::default() })) {
        let sb = match Sandbox::materialize(&layout) {
            Ok(s) => s,
            Err(SandboxError::Unsupported { .. }) => return Err(TestCaseError::reject("host cannot build it")),
            Err(e) => panic!("{e}"),
        };
        let out = sb.root().join("out/model.tar.gz");
        ReferencePackager::new().pack_dir(&sb.model_dir(), &out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let m = Manifest::read_path(&out, Limits::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let diff = DiskTree::scan(&sb.model_dir()).unwrap().diff(&m);
        prop_assert!(diff.is_empty(), "diff: {:#?}", diff.items);
        prop_assert!(m.name_problems().iter().all(|p| p.class == "link-escape"), "{:?}", m.name_problems());
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn repacking_after_touching_mtimes_is_byte_identical(layout in job_layout_with(StrategyConfig { deep_paths: false, ..StrategyConfig::default() })) {
        let sb = Sandbox::materialize(&layout).unwrap();
        let a = sb.root().join("out/a.tar.gz");
        let b = sb.root().join("out/b.tar.gz");
        ReferencePackager::new().pack_dir(&sb.model_dir(), &a).unwrap();
        sb.shift_mtimes(-123_456).unwrap();
        ReferencePackager::new().pack_dir(&sb.model_dir(), &b).unwrap();
        prop_assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    }
}
