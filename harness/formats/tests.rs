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
