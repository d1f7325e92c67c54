//! The tar parser under a valid gzip layer: arbitrary bytes are gzipped first, so the fuzzer
//! spends its time in the tar headers, pax records and long names rather than in deflate.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use packtest::archive::{Compression, Limits, Manifest};

fuzz_target!(|data: &[u8]| {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("in-memory");
    let gz = e.finish().expect("in-memory");
    let limits = Limits {
        max_unpacked: Some(64 << 20),
        max_metadata: 1 << 20,
        max_members: Some(100_000),
    };
    let (m, err) = Manifest::read_lenient(gz.as_slice(), limits);
    assert_eq!(m.compression, Compression::Gzip);
    // The gzip layer is valid, so any error is about the tar stream (or a limit).
    if let Some(e) = &err {
        assert!(!e.is_gzip_layer(), "{e:?}");
    }
    // The same bytes as a plain tar read to the same members (when they are a tar at all).
    let (plain, perr) = Manifest::read_lenient(data, limits);
    if plain.compression == Compression::None && perr.is_none() && err.is_none() {
        assert_eq!(plain.members, m.members);
    }
    let _ = m.name_problems();
});
