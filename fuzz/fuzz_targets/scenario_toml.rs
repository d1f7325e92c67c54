//! The scenario file parser (`scenarios/*.toml`): arbitrary text never panics, and a parsed
//! scenario's layout renders as a tree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = std::path::Path::new("scenarios/fuzz.toml");
    if let Ok((_, layout)) = packtest::scenario::Scenario::parse(path, text) {
        let _ = packtest::scenario::render_tree(&layout);
    }
});
