//! Damaged model files: a model file cut short (an async save not awaited, a full disk:
//! `model-file-truncated`), or a torch zip with one byte of a CRC-checked record flipped (a
//! bad copy: `model-file-corrupt`). Each promises its code on its path.

use proptest::prelude::*;
use proptest::sample::select;

use crate::detect::Code;
use crate::layout::{Content, Damage, Entry, ModelFormat, Root};

use super::super::piece::{piece, seed, Piece};
use super::super::truth::Promise;

/// Formats whose every cut the readers find, with the name a script would save them under.
fn cuttable() -> impl Strategy<Value = (ModelFormat, &'static str)> {
    select(vec![
        (ModelFormat::Safetensors, "model.safetensors"),
        (ModelFormat::TorchZip, "model.pth"),
        (ModelFormat::Joblib, "model.joblib"),
        (ModelFormat::Onnx, "model.onnx"),
        (ModelFormat::XgboostJson, "xgboost-model"),
        (ModelFormat::KerasH5, "model.h5"),
    ])
}

/// A model file cut at a random point, or a torch zip with a flipped payload byte.
pub(in super::super) fn damaged_model() -> SBoxedStrategy<Piece> {
    (cuttable(), seed(), 16u64..4096, any::<u64>(), any::<bool>())
        .prop_map(|((format, name), s, size, at, flip)| {
            let m = Root::Model;
            if flip {
                // The payload is the torch zip's storage entry, covered by its CRC-32: the
                // bytes before it are the two small entries' headers and data.
                let base = Content::format(ModelFormat::TorchZip, s, size);
                let (start, n) = base.payload_span().unwrap_or((0, 1));
                let content = Content::Damaged {
                    base: Box::new(base),
                    damage: Damage::Flip(start + at % n.max(1)),
                };
                return piece(
                    &[Code::ModelFileCorrupt.id()],
                    vec![Entry::file(m, "model.pt", content)],
                )
                .promising([Promise::model(Code::ModelFileCorrupt, "model.pt")]);
            }
            let base = Content::format(format, s, size);
            let keep = 1 + at % (base.len() - 1);
            let content = Content::Damaged {
                base: Box::new(base),
                damage: Damage::Cut(keep),
            };
            piece(
                &[Code::ModelFileTruncated.id()],
                vec![Entry::file(m, name, content)],
            )
            .promising([Promise::model(Code::ModelFileTruncated, name)])
        })
        .sboxed()
}
