//! The model-file readers (`packtest::formats`) on arbitrary bytes, as every format: nothing
//! may panic, a reader never claims more than the input holds, and a report's imports are
//! classified.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packtest::formats::{check, Kind};

fuzz_target!(|data: &[u8]| {
    for kind in Kind::ALL {
        if let Ok(r) = check(kind, data, data.len() as u64) {
            let _ = r.unsafe_imports().count();
        }
    }
    let _ = packtest::formats::read_index(data, data.len() as u64);
    let _ = Kind::guess(b"model.bin", data);
});
