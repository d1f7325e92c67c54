//! Unit tests of the format readers: packtest's own generated model files are whole, and
//! hostile inputs end in a finding or an error, in bounded time and memory, never a panic.

use std::io::Read;

use super::*;
use crate::layout::{Content, ModelFormat};

/// A reader of `n` copies of `byte`, without the bytes in memory.
struct Repeat {
    byte: u8,
    left: u64,
}

impl Read for Repeat {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        buf[..n].fill(self.byte);
        self.left -= n as u64;
        Ok(n)
    }
}

fn run(kind: Kind, bytes: &[u8]) -> Result<FileReport, FormatError> {
    check(kind, bytes, bytes.len() as u64)
}

#[test]
fn generated_model_files_are_whole() {
    let named = [
        (ModelFormat::Safetensors, "model.safetensors"),
        (ModelFormat::TorchZip, "model.pt"),
        (ModelFormat::SavedModelPb, "saved_model.pb"),
        (ModelFormat::KerasH5, "model.h5"),
        (ModelFormat::Onnx, "model.onnx"),
        (ModelFormat::XgboostJson, "xgboost-model"),
        (ModelFormat::Joblib, "model.joblib"),
    ];
    for (f, name) in named {
        for size in [16, 1000, 70_000] {
            let b = Content::format(f, 3, size).to_vec();
            let kind = Kind::guess(name.as_bytes(), &b[..b.len().min(4096)]);
            let kind = kind.unwrap_or_else(|| panic!("{name}: no reader"));
            let r = run(kind, &b);
            assert!(r.is_ok(), "{name} ({size}): {r:?}");
        }
    }
}

/// A safetensors file: header JSON, then `data` bytes.
fn st(header: &str, data: usize) -> Vec<u8> {
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(header.as_bytes());
    v.resize(v.len() + data, 0);
    v
}

const TWO: &str = r#"{"__metadata__":{"a":"b"},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"BF16","shape":[2,2],"data_offsets":[8,16]}}"#;

#[test]
fn safetensors_rules() {
    let ok = run(Kind::Safetensors, &st(TWO, 16)).expect("whole");
    assert_eq!(ok.tensors, vec!["x", "y"]);
    // Short data: truncated. Extra data: corrupt.
    assert!(matches!(
        run(Kind::Safetensors, &st(TWO, 15)),
        Err(FormatError::Truncated { .. })
    ));
    assert!(matches!(
        run(Kind::Safetensors, &st(TWO, 17)),
        Err(FormatError::Corrupt(_))
    ));
    // Overlap, gap, dtype x shape, unknown dtype, not JSON: corrupt.
    for h in [
        r#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
        r#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
        r#"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
        r#"{"x":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}"#,
        r#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]"#,
    ] {
        let r = run(Kind::Safetensors, &st(h, 16));
        assert!(matches!(r, Err(FormatError::Corrupt(_))), "{h}: {r:?}");
    }
    // Cut inside the header, and inside the length field.
    let whole = st(TWO, 16);
    for cut in [4, 20] {
        let r = run(Kind::Safetensors, &whole[..cut]);
        assert!(
            matches!(r, Err(FormatError::Truncated { .. })),
            "{cut}: {r:?}"
        );
    }
}

#[test]
fn hostile_safetensors_header_length_is_refused_without_allocating() {
    // 2^63 bytes of header: past Hugging Face's 100 MB limit, refused before any read.
    let mut b = (1u64 << 63).to_le_bytes().to_vec();
    b.extend_from_slice(b"{}");
    let r = check(Kind::Safetensors, &b[..], 1 << 40);
    assert!(
        matches!(r, Err(FormatError::Corrupt(ref m)) if m.contains("100000000")),
        "{r:?}"
    );
    // 90 MB claimed by a 10-byte file: truncated, never allocated.
    let mut b = 90_000_000u64.to_le_bytes().to_vec();
    b.extend_from_slice(b"{}");
    let r = run(Kind::Safetensors, &b);
    assert!(matches!(r, Err(FormatError::Truncated { .. })), "{r:?}");
}

/// `os.system("echo")` through `__reduce__`, protocol 4 (`STACK_GLOBAL` of memoized strings).
const EVIL_P4: &[u8] = b"\x80\x04\x95\x1e\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c\x04echo\x94\x85\x94R\x94.";
/// The same with protocol 0 (`GLOBAL`).
const EVIL_P0: &[u8] = b"cposix\nsystem\np0\n(Vecho\np1\ntp2\nRp3\n.";

#[test]
fn pickle_imports_are_listed_and_classified() {
    for evil in [EVIL_P4, EVIL_P0] {
        let r = run(Kind::Pickle, evil).expect("whole");
        let bad: Vec<_> = r
            .unsafe_imports()
            .map(|i| (&*i.module, &*i.name, i.verdict))
            .collect();
        assert_eq!(bad, vec![("posix", "system", ImportVerdict::Dangerous)]);
    }
    // A memoized STACK_GLOBAL: BINGET of the module and name strings.
    let via_memo = b"\x80\x04\x8c\x05posix\x94\x8c\x06system\x94\x30\x30h\x00h\x01\x93N\x85R.";
    let r = run(Kind::Pickle, via_memo).expect("whole");
    assert_eq!(r.imports[0].module, "posix");
    assert_eq!(r.imports[0].name, "system");
    assert_eq!(
        classify_import("torch._utils", "_rebuild_tensor_v2"),
        ImportVerdict::Safe
    );
    assert_eq!(
        classify_import("torch", "FloatStorage"),
        ImportVerdict::Safe
    );
    assert_eq!(
        classify_import("collections", "OrderedDict"),
        ImportVerdict::Safe
    );
    assert_eq!(
        classify_import("numpy.testing._private.utils", "runstring"),
        ImportVerdict::Dangerous
    );
    assert_eq!(classify_import("mymodel", "Net"), ImportVerdict::Unknown);
}

#[test]
fn damaged_pickles_are_truncated_or_corrupt() {
    let cut = &EVIL_P4[..EVIL_P4.len() - 1];
    assert!(matches!(
        run(Kind::Pickle, cut),
        Err(FormatError::Truncated { .. })
    ));
    // An unknown opcode, a stack underflow, a protocol past 5.
    for bad in [&b"\x80\x02\xff."[..], b"\x80\x02a.", b"\x80\x09N."] {
        let r = run(Kind::Pickle, bad);
        assert!(matches!(r, Err(FormatError::Corrupt(_))), "{bad:?}: {r:?}");
    }
    // A BINUNICODE8 claiming 2^62 bytes in a short file: truncated, nothing allocated.
    let mut b = b"\x80\x04\x8d".to_vec();
    b.extend_from_slice(&(1u64 << 62).to_le_bytes());
    assert!(matches!(
        run(Kind::Pickle, &b),
        Err(FormatError::Truncated { .. })
    ));
}

#[test]
fn a_billion_deep_pickle_stops_at_the_nesting_bound() {
    let start = std::time::Instant::now();
    for byte in [b'(', b']'] {
        let mut input = b"\x80\x02".chain(Repeat {
            byte,
            left: 1_000_000_000,
        });
        let r = scan_pickle(&mut input, 1_000_000_002, PickleLimits::default());
        assert!(
            matches!(r, Err(FormatError::Corrupt(ref m)) if m.contains("bound")),
            "{r:?}"
        );
    }
    assert!(start.elapsed().as_secs() < 60, "{:?}", start.elapsed());
}

/// A stored zip of `entries`, with a correct central directory.
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let crc = crc32fast::hash(data);
        let off = out.len() as u32;
        for (buf, sig) in [(&mut out, 0x0403_4b50u32), (&mut central, 0x0201_4b50)] {
            buf.extend_from_slice(&sig.to_le_bytes());
            if sig == 0x0201_4b50 {
                buf.extend_from_slice(&[20, 0]);
            }
            buf.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            buf.extend_from_slice(&crc.to_le_bytes());
            buf.extend_from_slice(&(data.len() as u32).to_le_bytes());
            buf.extend_from_slice(&(data.len() as u32).to_le_bytes());
            buf.extend_from_slice(&(name.len() as u16).to_le_bytes());
            buf.extend_from_slice(&[0, 0]);
            if sig == 0x0201_4b50 {
                buf.extend_from_slice(&[0; 10]);
                buf.extend_from_slice(&off.to_le_bytes());
            }
            buf.extend_from_slice(name.as_bytes());
        }
        out.extend_from_slice(data);
    }
    let cd = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    let n = (entries.len() as u16).to_le_bytes();
    out.extend_from_slice(&[n[0], n[1], n[0], n[1]]);
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

#[test]
fn zip_rules() {
    let torch = zip(&[("archive/data.pkl", EVIL_P4), ("archive/version", b"3\n")]);
    let r = run(Kind::Zip, &torch).expect("whole");
    assert_eq!(r.unsafe_imports().count(), 1, "{r:?}");
    // Every cut is truncated; a flipped data byte is a CRC mismatch.
    for cut in 1..torch.len() {
        let r = run(Kind::Zip, &torch[..cut]);
        assert!(
            matches!(r, Err(FormatError::Truncated { .. })),
            "cut {cut}: {r:?}"
        );
    }
    let mut flipped = torch.clone();
    flipped[30 + 16 + 5] ^= 0xff;
    let r = run(Kind::Zip, &flipped);
    assert!(
        matches!(r, Err(FormatError::Corrupt(ref m)) if m.contains("CRC")),
        "{r:?}"
    );
    // A PyTorch layout without data.pkl.
    let r = run(Kind::Zip, &zip(&[("archive/version", b"3\n")]));
    assert!(
        matches!(r, Err(FormatError::Corrupt(ref m)) if m.contains("data.pkl")),
        "{r:?}"
    );
}

#[test]
fn a_zip_of_a_million_entries_stops_at_the_entry_bound() {
    let start = std::time::Instant::now();
    let names: Vec<String> = (0..MAX_ZIP_ENTRIES + 1).map(|i| format!("{i}")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    let many = zip(&entries[..entries.len().min(60_000)]);
    assert!(run(Kind::Zip, &many).is_ok());
    // Local headers only (the central directory never comes): refused at the bound.
    let mut b = Vec::new();
    for n in &names {
        b.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        b.extend_from_slice(&[
            20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ]);
        b.extend_from_slice(&(n.len() as u16).to_le_bytes());
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(n.as_bytes());
    }
    let r = check(Kind::Zip, &b[..], 1 << 40);
    assert!(
        matches!(r, Err(FormatError::Corrupt(ref m)) if m.contains("entries")),
        "{r:?}"
    );
    // An end record claiming a million entries over none.
    let mut eocd = 0x0605_4b50u32.to_le_bytes().to_vec();
    eocd.extend_from_slice(&[
        0, 0, 0, 0, 0x40, 0x42, 0x40, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    assert!(matches!(
        run(Kind::Zip, &eocd),
        Err(FormatError::Corrupt(_))
    ));
    assert!(start.elapsed().as_secs() < 60, "{:?}", start.elapsed());
}

/// Appends a length-delimited protobuf field.
fn ld(out: &mut Vec<u8>, field: u8, body: &[u8]) {
    out.push((field << 3) | 2);
    let mut n = body.len();
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(body);
}

#[test]
fn onnx_external_data_is_listed_and_framing_checked() {
    let entry = |k: &str, v: &str| {
        let mut e = Vec::new();
        ld(&mut e, 1, k.as_bytes());
        ld(&mut e, 2, v.as_bytes());
        e
    };
    let mut tensor = Vec::new();
    ld(&mut tensor, 8, b"W");
    ld(&mut tensor, 13, &entry("location", "w.bin"));
    ld(&mut tensor, 13, &entry("offset", "16"));
    ld(&mut tensor, 13, &entry("length", "64"));
    tensor.extend_from_slice(&[0x70, 0x01]);
    let mut graph = Vec::new();
    ld(&mut graph, 5, &tensor);
    let mut model = vec![0x08, 0x08];
    ld(&mut model, 7, &graph);
    ld(&mut model, 8, &[0x10, 0x11]);
    let r = run(Kind::Onnx, &model).expect("whole");
    let want = ExternalData {
        tensor: "W".into(),
        location: "w.bin".into(),
        offset: 16,
        length: Some(64),
    };
    assert_eq!(r.external, vec![want]);
    for cut in 1..model.len() {
        let r = run(Kind::Onnx, &model[..cut]);
        assert!(
            matches!(r, Err(FormatError::Truncated { .. })),
            "cut {cut}: {r:?}"
        );
    }
    // A varint of 11 bytes.
    let r = run(
        Kind::Onnx,
        &[
            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ],
    );
    assert!(matches!(r, Err(FormatError::Corrupt(_))), "{r:?}");
}

#[test]
fn hdf5_and_xgboost_rules() {
    let h5 = Content::format(ModelFormat::KerasH5, 1, 1000).to_vec();
    assert!(run(Kind::Hdf5, &h5).is_ok());
    let r = run(Kind::Hdf5, &h5[..900]);
    assert!(matches!(r, Err(FormatError::Truncated { .. })), "{r:?}");
    assert!(run(Kind::XgboostJson, br#"{"learner": {}, "version": [2]}"#).is_ok());
    let r = run(Kind::XgboostJson, br#"{"version": [2]}"#);
    assert!(
        matches!(r, Err(FormatError::Corrupt(ref m)) if m.contains("learner")),
        "{r:?}"
    );
    let r = run(Kind::XgboostJson, br#"{"learner": {"a": 1.5E"#);
    assert!(matches!(r, Err(FormatError::Truncated { .. })), "{r:?}");
}

#[test]
fn formats_are_guessed_from_names_and_bytes() {
    assert_eq!(
        Kind::guess(b"model.safetensors", b"\x01"),
        Some(Kind::Safetensors)
    );
    assert_eq!(
        Kind::guess(b"weights.dat", &st(TWO, 0)),
        Some(Kind::Safetensors)
    );
    assert_eq!(Kind::guess(b"model.pth", b"PK\x03\x04"), Some(Kind::Zip));
    assert_eq!(
        Kind::guess(b"model.joblib", b"\x80\x04"),
        Some(Kind::Pickle)
    );
    // Two bytes that look like PROTO are not enough under another name.
    assert_eq!(Kind::guess(b"part.dat", b"\x80\x02abcdefghijklmnop"), None);
    assert_eq!(Kind::guess(b"README.md", b"# hi"), None);
}
