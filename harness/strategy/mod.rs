//! Proptest strategies that generate whole job sandboxes, as [`Layout`] values.
//!
//! A layout is assembled from independent **pieces**: an optional framework model (the clean
//! part), and up to a handful of pitfall pieces, each carrying the labels of what it injects.
//! Pieces are generated as values and assembled with `prop_map`, never filtered, so proptest's
//! shrinking works on them directly: it drops whole pieces first (a `Vec` shrinks by removing
//! elements), then shrinks what remains (sizes toward 0, names toward short ones). A failure
//! caused by one long name therefore shrinks to the training script plus that one entry.
//!
//! Label contract (shared with the detector's ground-truth test): a label equal to the id of
//! a code in [`ERROR_LABELS`] is present exactly when that error holds for the layout. Other
//! labels describe what is in the layout (`long-name`, `non-utf8-name`, `hardlink`,
//! `large-file`, …) and promise nothing about findings. A label equal to the id of a code in
//! [`WARNING_LABELS`] promises a finding of that code under the default target, exactly as
//! well. A link loop (`link-loop`) carries `dangling-symlink`: its target never resolves.
//! The `unreadable-file` label, drawn only with [`StrategyConfig::unreadable_files`], promises
//! that error for a user other than root.
//! `empty-model-dir` and `no-model-file` are derived from the assembled layout (they depend on
//! every piece); all other labels come from the piece that injects them.
//!
//! `no-model-file` holds when the model dir has regular files and none is a model file by the
//! generator's own account ([`loads_as_model`]): content written as a model format, or a name
//! a framework loads (`*.bin`, `*.pt`, `xgboost-model`, …), never macOS residue (`._*`,
//! `__MACOSX/`). The `Arbitrary` profile counts like any other: a tree of `.txt`, `.csv`,
//! `.json` data files holds no model, and the warning is right for it; one with a `.bin`
//! file holds one. Random bytes that happen to carry a model format's magic (a pickle's
//! `\x80\x02`) count as what the sniffer says they are.
//!
//! Pieces whose paths collide with an earlier piece are dropped whole, labels included, so the
//! labels always describe the layout that is actually built.
//!
//! Ground truth by (code, path): beyond its labels, every piece carries the findings it
//! promises ([`Promise`]: code, root, path, and the targets it holds on), gathered into the
//! [`Truth`] of a [`Case`] ([`job_case_with`]). For the codes of [`PROMISED`], the detector's
//! findings are exactly the promises, one each, on every target: in the model-dir view
//! (`detect::detect`) and, for `link-in-archive`, in the archive view of a packager that
//! stores every member as it is (the reference packager for `posix`). Pitfalls that are off
//! by default ([`StrategyConfig::unreadable_files`], [`StrategyConfig::copied_models`]) are
//! drawn only when their knob is on, so existing seeds generate what they always did.
//!
//! Submodules, each using only the ones listed before it:
//! - `truth`: [`Promise`], [`Truth`] and the codes it covers, [`PROMISED`];
//! - `piece`: [`Piece`], [`StrategyConfig`] and the stem and seed strategies;
//! - `names`: odd file names, each with its label;
//! - `profiles`: the framework [`Profile`]s and [`profile_piece`];
//! - `pitfalls`: one strategy per pitfall and their weighted choice;
//! - `assembly`: [`assemble`], [`Case`], nesting under an extra top folder, and
//!   [`loads_as_model`].

mod assembly;
mod names;
mod piece;
mod pitfalls;
mod profiles;
#[cfg(test)]
mod tests;
mod truth;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use crate::detect::Code;
use crate::layout::Layout;

pub use assembly::{assemble, assemble_case, loads_as_model, Case};
pub use piece::{is_root, Piece, StrategyConfig};
pub use profiles::{profile_piece, Profile};
pub use truth::{CodePath, Promise, Truth, When, PROMISED};

use pitfalls::pitfall;

/// The labels that promise a detector error of the same code (the label contract above).
pub const ERROR_LABELS: [Code; 7] = [
    Code::DanglingSymlink,
    Code::EmptyModelDir,
    Code::ModelSavedOutside,
    Code::SavedmodelIncomplete,
    Code::SavedmodelUnversioned,
    Code::SpecialFile,
    Code::SymlinkEscape,
];

/// The labels that promise a detector finding of the same code, of any severity, under the
/// default target (SageMaker): present exactly when the finding is (the label contract above).
pub const WARNING_LABELS: [Code; 4] = [
    Code::SymlinkInModelDir,
    Code::UnreadableByServer,
    Code::NoModelFile,
    Code::JunkFiles,
];

/// Whole job layouts: any profile, pitfalls at realistic frequencies.
pub fn job_layout() -> SBoxedStrategy<Layout> {
    job_layout_with(StrategyConfig::default())
}

/// Whole job layouts with explicit knobs.
pub fn job_layout_with(cfg: StrategyConfig) -> SBoxedStrategy<Layout> {
    // Mapping draws nothing: the layouts are those of `job_case_with`, seed for seed.
    job_case_with(cfg).prop_map(|c| c.layout).sboxed()
}

/// Whole job layouts with their ground truth ([`Case`]), with explicit knobs.
pub fn job_case_with(cfg: StrategyConfig) -> SBoxedStrategy<Case> {
    let profile = select(Profile::ALL.to_vec()).prop_flat_map(profile_piece);
    (
        option::weighted(0.92, profile),
        vec(pitfall(&cfg), 0..=cfg.max_pitfalls),
        option::weighted(
            0.08,
            select(vec![
                "model".to_string(),
                "output".to_string(),
                "my-job-2024".to_string(),
            ]),
        ),
    )
        .prop_map(|(p, pits, n)| assemble_case(p, pits, n))
        .sboxed()
}

/// A proptest `Config` that is deterministic in CI: `cases` cases from a fixed RNG seed,
/// `default_seed` unless the environment variable `seed_var` holds another, and no
/// failure-persistence files. Rerun a failure with the same seed to get the same inputs.
pub fn ci_config(cases: u32, seed_var: &str, default_seed: u64) -> proptest::test_runner::Config {
    let seed = std::env::var(seed_var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_seed);
    proptest::test_runner::Config {
        cases,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}

/// Correct layouts of one profile: no pitfall pieces at all.
pub fn clean_layout(profile: Profile) -> SBoxedStrategy<Layout> {
    profile_piece(profile)
        .prop_map(|p| assemble(Some(p), Vec::new(), None))
        .sboxed()
}
