//! Not a README step: copied into the new crate by tests/new_user/run.sh, beside the README's
//! own test. With the README's `[profile.dev.package."*"] opt-level = 2`, packtest is built
//! optimized although debug assertions stay on, so `Harness`'s debug-build tip must not fire.

#[test]
fn the_readme_profile_lines_turn_the_debug_build_tip_off() {
    assert!(cfg!(debug_assertions), "the user's own crate stays a debug build");
    assert!(
        !packtest::built_unoptimized(),
        "packtest thinks it was built without optimization under the README's profile lines"
    );
}
