//! What a test does when something it needs cannot be had here (a tool, root, a mount): say so
//! where a reader sees it, and fail under `CI=true` (`.ci/run` sets it) or
//! `PACKTEST_REQUIRE_ALL=1`, never pass quietly.
//!
//! Shared by the test binaries with `#[path = "common/unavailable.rs"] mod unavailable;`.

use std::io::Write;

/// True under `CI=true` or `PACKTEST_REQUIRE_ALL=1`: nothing may be left out.
pub fn in_ci() -> bool {
    let on = |var: &str| std::env::var(var).is_ok_and(|v| v == "true" || v == "1");
    on("CI") || on("PACKTEST_REQUIRE_ALL")
}

/// Reports that `what` cannot run here because `why`. Under CI it panics; elsewhere it writes
/// to the process's stderr directly (libtest captures `eprintln!` of a passing test, not
/// this), so the line shows in the `cargo test` output.
pub fn unavailable(what: &str, why: &str) {
    let msg = format!("NOT RUN: {what}: {why} (tests/setup.sh installs the tools; run as root for the privileged cases)");
    if in_ci() {
        panic!("{msg}; under CI=true or PACKTEST_REQUIRE_ALL=1 every check must run");
    }
    let _ = writeln!(std::io::stderr(), "{msg}");
}
