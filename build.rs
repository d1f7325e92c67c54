//! Tells packtest whether its own code is optimized: `packtest_unoptimized` at opt-level 0,
//! for the debug-build tip of `Harness` (`cfg!(debug_assertions)` stays on at opt-level 2, so
//! it cannot tell). Cargo gives a build script the opt-level of the package being built.

fn main() {
    println!("cargo:rustc-check-cfg=cfg(packtest_unoptimized)");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=OPT_LEVEL");
    if std::env::var("OPT_LEVEL").is_ok_and(|l| l == "0") {
        println!("cargo:rustc-cfg=packtest_unoptimized");
    }
}
