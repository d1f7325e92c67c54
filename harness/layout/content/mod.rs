//! File content: deterministic, seeded, streamed, and real model formats.
//!
//! Every content form is a pure function of its parameters: the same [`Content`] always yields
//! the same bytes. Large content is never held in memory: [`Content::write_to`] streams a seeded
//! payload in 64 KiB chunks between a small in-memory prefix and suffix, so materializing a
//! 2 GiB weights file costs 64 KiB of buffer.
//!
//! The model formats carry the magic bytes and structure that serving containers and
//! packtest's detector sniff: a safetensors JSON header, a PyTorch zip with `data.pkl`, a TF
//! `SavedModel` protobuf, a TF table footer for `variables.index`, the HDF5 signature, an ONNX
//! `ModelProto`, XGBoost JSON, a joblib pickle, and Hugging Face config and tokenizer JSON.
//!
//! Submodules: `seeded` (the [`Fill`] shapes and the seeded stream) and `formats` (each
//! [`ModelFormat`]'s bytes), which uses `seeded`.

mod formats;
mod seeded;

use std::io::{self, Write};

mod damage;

pub use damage::Damage;
pub use formats::ModelFormat;
pub use seeded::Fill;

use formats::Parts;
use seeded::write_seeded;

/// What a regular file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// UTF-8 text, verbatim.
    Text(String),
    /// Exact bytes (hex in TOML).
    Bytes(Vec<u8>),
    /// `size` bytes generated from `seed`.
    Seeded {
        /// The generator seed.
        seed: u64,
        /// The length in bytes.
        size: u64,
        /// What the bytes look like.
        fill: Fill,
    },
    /// A file in a real model format, with a seeded payload of about `size` bytes.
    Format {
        /// The format.
        format: ModelFormat,
        /// The generator seed.
        seed: u64,
        /// The payload (tensor) size in bytes; the header adds a little.
        size: u64,
    },
    /// A model-format file cut short or with a flipped byte.
    Damaged {
        /// The whole file.
        base: Box<Content>,
        /// What is wrong with it.
        damage: Damage,
    },
}

impl Content {
    /// Seeded random bytes.
    pub fn random(seed: u64, size: u64) -> Self {
        Content::Seeded {
            seed,
            size,
            fill: Fill::Random,
        }
    }

    /// A model-format file with a payload of `size` bytes.
    pub fn format(format: ModelFormat, seed: u64, size: u64) -> Self {
        Content::Format { format, seed, size }
    }

    /// The exact length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Content::Text(t) => t.len() as u64,
            Content::Bytes(b) => b.len() as u64,
            Content::Seeded { size, .. } => *size,
            Content::Format { .. } => {
                let p = self.parts();
                p.head.len() as u64 + p.payload.map_or(0, |x| x.1) + p.tail.len() as u64
            }
            Content::Damaged { base, damage } => damage.len(base.len()),
        }
    }

    /// Where a format file's seeded payload (its tensor bytes) lies: (offset, length).
    pub fn payload_span(&self) -> Option<(u64, u64)> {
        let p = self.parts();
        p.payload.map(|(_, n, _)| (p.head.len() as u64, n))
    }

    /// True when the content is zero bytes long.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Streams the content into `w`.
    pub fn write_to(&self, w: &mut dyn Write) -> io::Result<()> {
        match self {
            Content::Text(t) => w.write_all(t.as_bytes()),
            Content::Bytes(b) => w.write_all(b),
            Content::Seeded { seed, size, fill } => write_seeded(w, *seed, *size, *fill),
            Content::Format { .. } => {
                let p = self.parts();
                w.write_all(&p.head)?;
                if let Some((seed, size, fill)) = p.payload {
                    write_seeded(w, seed, size, fill)?;
                }
                w.write_all(&p.tail)
            }
            Content::Damaged { base, damage } => base.write_to(&mut damage::Damaging {
                w,
                pos: 0,
                damage: *damage,
            }),
        }
    }

    /// The whole content in memory; for tests and small files only.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_to(&mut v);
        v
    }

    /// A format file's head, payload and tail; nothing for any other content.
    fn parts(&self) -> Parts {
        let Content::Format { format, seed, size } = *self else {
            return Parts {
                head: Vec::new(),
                payload: None,
                tail: Vec::new(),
            };
        };
        formats::parts(format, seed, size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_deterministic_and_len_is_exact() {
        for f in ModelFormat::ALL {
            let c = Content::format(f, 7, 1000);
            let a = c.to_vec();
            assert_eq!(a, c.to_vec(), "{f:?} is not deterministic");
            assert_eq!(a.len() as u64, c.len(), "{f:?} len mismatch");
        }
        for fill in [Fill::Random, Fill::Zeros, Fill::Floats, Fill::Text] {
            let c = Content::Seeded {
                seed: 3,
                size: 100_003,
                fill,
            };
            assert_eq!(c.to_vec().len(), 100_003);
        }
    }

    #[test]
    fn different_seeds_give_different_bytes() {
        assert_ne!(
            Content::random(1, 64).to_vec(),
            Content::random(2, 64).to_vec()
        );
    }

    #[test]
    fn safetensors_header_is_valid_json_with_offsets_matching_the_payload() {
        let bytes = Content::format(ModelFormat::Safetensors, 1, 400).to_vec();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        assert_eq!(header["weight"]["data_offsets"][1], 400);
        assert_eq!(bytes.len() - 8 - n, 400);
    }

    #[test]
    fn torch_zip_has_a_valid_end_of_central_directory() {
        let bytes = Content::format(ModelFormat::TorchZip, 1, 4096).to_vec();
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        let eocd = &bytes[bytes.len() - 22..];
        assert_eq!(&eocd[..4], b"PK\x05\x06");
        let cd_off = u32::from_le_bytes(eocd[16..20].try_into().unwrap()) as usize;
        assert_eq!(&bytes[cd_off..cd_off + 4], b"PK\x01\x02");
    }

    #[test]
    fn json_formats_parse() {
        for f in [
            ModelFormat::XgboostJson,
            ModelFormat::HfConfig,
            ModelFormat::HfTokenizer,
            ModelFormat::HfTokenizerConfig,
        ] {
            let bytes = Content::format(f, 5, 2000).to_vec();
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .unwrap_or_else(|e| panic!("{f:?}: {e}"));
        }
    }
}
