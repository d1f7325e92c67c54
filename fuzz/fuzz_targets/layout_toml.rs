//! The layout TOML parser: arbitrary text never panics, and whatever parses survives a
//! `to_toml` / `from_toml` round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packtest::layout::Layout;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(layout) = Layout::from_toml(text) {
        let again = Layout::from_toml(&layout.to_toml()).expect("to_toml output parses");
        assert_eq!(again, layout);
    }
});
