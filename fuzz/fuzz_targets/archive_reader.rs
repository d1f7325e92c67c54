//! The archive reader on arbitrary bytes: gzip or tar framing, then the manifest, the unsafe
//! member rules, the archive-only detector rules and the JSON form. Nothing may panic, and the
//! lenient and strict readers must agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packtest::archive::{Limits, Manifest};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_unpacked: Some(64 << 20),
        max_metadata: 1 << 20,
        max_members: Some(100_000),
    };
    let (m, err) = Manifest::read_lenient(data, limits);
    if let Some(e) = &err {
        assert!(!e.class().is_empty());
        let _ = e.to_string();
    }
    assert_eq!(Manifest::read(data, limits).is_ok(), err.is_none());
    for p in m.name_problems() {
        assert!(p.index < m.members.len());
    }
    let _ = packtest::detect::detect_archive(&m, &Default::default());
    let _ = serde_json::to_string(&m).expect("a manifest always serializes");
});
