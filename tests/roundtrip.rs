//! The reference packager round-trips generated trees for every deploy target: it refuses
//! exactly when the target requires it, and otherwise what the target's consumer extracts is
//! the expected tree (DESIGN §2); for `posix` the archive also diffs empty against the model
//! dir. It re-packs byte-identically after the mtimes move, and every `--level` gives the same
//! tar.

use packtest::archive::{DiskTree, Limits, Manifest};
use packtest::layout::{Sandbox, SandboxError};
use packtest::packager::{ArchiveFormat, PackOptions};
use packtest::strategy::{job_layout_with, StrategyConfig};
use packtest::target::{compare, expected, extract, Target, World};
use packtest::ReferencePackager;
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;

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
        let tree = DiskTree::scan(&sb.model_dir()).unwrap();
        let abs = std::fs::canonicalize(sb.model_dir()).unwrap();
        let world = World::model_only(&tree, Some(abs.as_os_str().as_bytes()));
        for target in Target::ALL {
            let _ = std::fs::remove_file(&out);
            let want = expected(&world, target);
            let must_refuse: Vec<_> = want.must_refuse().map(|(p, _)| p.clone()).collect();
            match ReferencePackager::for_target(target).pack_dir(&sb.model_dir(), &out) {
                Err(e) => {
                    prop_assert!(!must_refuse.is_empty(), "{target}: refused a model dir it must pack: {e}");
                    prop_assert!(must_refuse.iter().any(|p| e.to_string().contains(&p.display())), "{target}: the error names none of {must_refuse:?}: {e}");
                    prop_assert!(!out.exists(), "{target}: a file left after the refusal");
                }
                Ok(_) => {
                    prop_assert!(must_refuse.is_empty(), "{target}: packed a model dir it must refuse ({must_refuse:?})");
                    let m = Manifest::read_path(&out, Limits::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let got = extract(&m, target);
                    prop_assert!(got.refusals.is_empty(), "{target}: the consumer refuses {:?}", got.refusals);
                    let gaps = compare(&want, &got.tree);
                    prop_assert!(gaps.is_empty(), "{target}: {gaps:#?}");
                    if target == Target::Posix {
                        let diff = tree.diff(&m);
                        prop_assert!(diff.is_empty(), "diff: {:#?}", diff.items);
                        prop_assert!(m.name_problems().iter().all(|p| p.class == packtest::archive::NameClass::LinkEscape), "{:?}", m.name_problems());
                    } else {
                        prop_assert!(m.name_problems().is_empty(), "{target}: {:?}", m.name_problems());
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn repacking_after_touching_mtimes_is_byte_identical(layout in job_layout_with(StrategyConfig { deep_paths: false, ..StrategyConfig::default() })) {
        let sb = Sandbox::materialize(&layout).unwrap();
        let a = sb.root().join("out/a.tar.gz");
        let b = sb.root().join("out/b.tar.gz");
        for target in Target::ALL {
            let p = ReferencePackager::for_target(target);
            if p.pack_dir(&sb.model_dir(), &a).is_err() {
                continue;
            }
            sb.shift_mtimes(-123_456).unwrap();
            p.pack_dir(&sb.model_dir(), &b).unwrap();
            prop_assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        }
    }
}

proptest! {
    #![proptest_config(config(16))]

    /// Every `--level` is the same tar once gunzipped, and reads back with an empty diff.
    #[test]
    fn every_level_packs_the_same_tar(layout in job_layout_with(StrategyConfig { deep_paths: false, ..StrategyConfig::default() })) {
        let sb = Sandbox::materialize(&layout).unwrap();
        let pack = |level, format, name: &str| {
            let out = sb.root().join("out").join(name);
            let options = PackOptions { level, format, target: Target::Posix, ..PackOptions::default() };
            ReferencePackager { options }.pack_dir(&sb.model_dir(), &out).map(|_| std::fs::read(&out).unwrap())
        };
        let Ok(tar) = pack(6, ArchiveFormat::Tar, "model.tar") else {
            return Err(TestCaseError::reject("the posix target refuses this tree"));
        };
        let tree = DiskTree::scan(&sb.model_dir()).unwrap();
        for level in 0..=9 {
            let gz = pack(level, ArchiveFormat::TarGz, &format!("model-{level}.tar.gz")).unwrap();
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(gz.as_slice()).read_to_end(&mut plain).map_err(|e| TestCaseError::fail(format!("level {level}: {e}")))?;
            prop_assert!(plain == tar, "level {}: not the same tar", level);
            let m = Manifest::read(gz.as_slice(), Limits::default()).map_err(|e| TestCaseError::fail(format!("level {level}: {e}")))?;
            let diff = tree.diff(&m);
            prop_assert!(diff.is_empty(), "level {}: {:#?}", level, diff.items);
        }
    }
}
