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

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

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
}

/// The shape of seeded bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Fill {
    /// Uniform random bytes: incompressible.
    #[default]
    Random,
    /// All zeros: maximally compressible.
    Zeros,
    /// Little-endian float32 weights: random mantissas, realistic exponents.
    Floats,
    /// Word-like ASCII text with newlines.
    Text,
}

/// A model file format that packtest can generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelFormat {
    /// `model.safetensors`: u64 header length, JSON header, float32 tensor data.
    Safetensors,
    /// `model.pt` as `torch.save` writes it: a zip with `archive/data.pkl` and tensor storage.
    TorchZip,
    /// `saved_model.pb`: a `SavedModel` protobuf with a `serve` meta graph.
    SavedModelPb,
    /// `variables/variables.index`: a TF table with its footer magic.
    TfVariablesIndex,
    /// `variables/variables.data-00000-of-00001`: raw float32 shard data.
    TfVariablesData,
    /// A Keras `.h5` / `.keras` HDF5 file.
    KerasH5,
    /// `model.onnx`: an ONNX `ModelProto`.
    Onnx,
    /// `xgboost-model` in XGBoost's JSON form.
    XgboostJson,
    /// `model.joblib`: a pickle as `joblib.dump` writes it.
    Joblib,
    /// Hugging Face `config.json`.
    HfConfig,
    /// Hugging Face `tokenizer.json`.
    HfTokenizer,
    /// Hugging Face `tokenizer_config.json`.
    HfTokenizerConfig,
}

impl ModelFormat {
    /// Every format.
    pub const ALL: [ModelFormat; 12] = [
        ModelFormat::Safetensors,
        ModelFormat::TorchZip,
        ModelFormat::SavedModelPb,
        ModelFormat::TfVariablesIndex,
        ModelFormat::TfVariablesData,
        ModelFormat::KerasH5,
        ModelFormat::Onnx,
        ModelFormat::XgboostJson,
        ModelFormat::Joblib,
        ModelFormat::HfConfig,
        ModelFormat::HfTokenizer,
        ModelFormat::HfTokenizerConfig,
    ];

    /// The kebab-case name used in TOML.
    pub fn name(self) -> &'static str {
        match self {
            ModelFormat::Safetensors => "safetensors",
            ModelFormat::TorchZip => "torch-zip",
            ModelFormat::SavedModelPb => "saved-model-pb",
            ModelFormat::TfVariablesIndex => "tf-variables-index",
            ModelFormat::TfVariablesData => "tf-variables-data",
            ModelFormat::KerasH5 => "keras-h5",
            ModelFormat::Onnx => "onnx",
            ModelFormat::XgboostJson => "xgboost-json",
            ModelFormat::Joblib => "joblib",
            ModelFormat::HfConfig => "hf-config",
            ModelFormat::HfTokenizer => "hf-tokenizer",
            ModelFormat::HfTokenizerConfig => "hf-tokenizer-config",
        }
    }

    /// Parses a kebab-case name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The conventional file name for this format.
    pub fn default_file_name(self) -> &'static str {
        match self {
            ModelFormat::Safetensors => "model.safetensors",
            ModelFormat::TorchZip => "model.pt",
            ModelFormat::SavedModelPb => "saved_model.pb",
            ModelFormat::TfVariablesIndex => "variables.index",
            ModelFormat::TfVariablesData => "variables.data-00000-of-00001",
            ModelFormat::KerasH5 => "model.h5",
            ModelFormat::Onnx => "model.onnx",
            ModelFormat::XgboostJson => "xgboost-model",
            ModelFormat::Joblib => "model.joblib",
            ModelFormat::HfConfig => "config.json",
            ModelFormat::HfTokenizer => "tokenizer.json",
            ModelFormat::HfTokenizerConfig => "tokenizer_config.json",
        }
    }
}

/// SplitMix64: tiny, fast, and good enough for test data.
#[derive(Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed ^ 0x5851_f42d_4c95_7f2d)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

const WORDS: [&str; 16] = [
    "the",
    "model",
    "weights",
    "tensor",
    "layer",
    "epoch",
    "loss",
    "gradient",
    "token",
    "batch",
    "learning",
    "rate",
    "attention",
    "head",
    "bias",
    "norm",
];

/// Fills `buf` with the next bytes of a seeded stream.
struct Filler {
    rng: SplitMix,
    fill: Fill,
    /// Carry-over bytes for fills whose unit is larger than the buffer tail.
    pending: Vec<u8>,
}

impl Filler {
    fn new(seed: u64, fill: Fill) -> Self {
        Filler {
            rng: SplitMix::new(seed),
            fill,
            pending: Vec::new(),
        }
    }

    fn fill(&mut self, buf: &mut [u8]) {
        match self.fill {
            Fill::Zeros => buf.fill(0),
            Fill::Random => {
                for chunk in buf.chunks_mut(8) {
                    let v = self.rng.next_u64().to_le_bytes();
                    chunk.copy_from_slice(&v[..chunk.len()]);
                }
            }
            Fill::Floats => {
                // float32 with a random sign and mantissa and an exponent in [2^-12, 2^0):
                // the exponent byte is what gzip's Huffman coding can squeeze.
                for chunk in buf.chunks_mut(4) {
                    let r = self.rng.next_u64();
                    let mantissa = (r as u32) & 0x007f_ffff;
                    let exp = 115 + ((r >> 32) % 12) as u32;
                    let sign = ((r >> 40) as u32 & 1) << 31;
                    let v = (sign | (exp << 23) | mantissa).to_le_bytes();
                    chunk.copy_from_slice(&v[..chunk.len()]);
                }
            }
            Fill::Text => {
                let mut i = 0;
                while i < buf.len() {
                    if self.pending.is_empty() {
                        let r = self.rng.next_u64();
                        self.pending
                            .extend_from_slice(WORDS[(r % 16) as usize].as_bytes());
                        self.pending
                            .push(if (r >> 8) % 12 == 0 { b'\n' } else { b' ' });
                    }
                    let n = self.pending.len().min(buf.len() - i);
                    buf[i..i + n].copy_from_slice(&self.pending[..n]);
                    self.pending.drain(..n);
                    i += n;
                }
            }
        }
    }
}

/// Writes `size` seeded bytes to `w` in 64 KiB chunks.
fn write_seeded(w: &mut dyn Write, seed: u64, size: u64, fill: Fill) -> io::Result<()> {
    let mut filler = Filler::new(seed, fill);
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = size;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        filler.fill(&mut buf[..n]);
        w.write_all(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}

/// A format file split into an in-memory head, a streamed payload, and an in-memory tail.
struct Parts {
    head: Vec<u8>,
    payload: Option<(u64, u64, Fill)>,
    tail: Vec<u8>,
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
        }
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
        }
    }

    /// The whole content in memory; for tests and small files only.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_to(&mut v);
        v
    }

    fn parts(&self) -> Parts {
        let Content::Format { format, seed, size } = *self else {
            return Parts {
                head: Vec::new(),
                payload: None,
                tail: Vec::new(),
            };
        };
        let floats = Some((seed, size & !3, Fill::Floats));
        let small = |head: Vec<u8>| Parts {
            head,
            payload: None,
            tail: Vec::new(),
        };
        match format {
            ModelFormat::Safetensors => {
                let n = size / 4;
                let mut header = format!(
                    "{{\"__metadata__\":{{\"format\":\"pt\"}},\"weight\":{{\"dtype\":\"F32\",\"shape\":[{n}],\"data_offsets\":[0,{}]}}}}",
                    n * 4
                )
                .into_bytes();
                while header.len() % 8 != 0 {
                    header.push(b' ');
                }
                let mut head = (header.len() as u64).to_le_bytes().to_vec();
                head.extend_from_slice(&header);
                Parts {
                    head,
                    payload: floats,
                    tail: Vec::new(),
                }
            }
            ModelFormat::TorchZip => torch_zip(seed, size.min(u32::MAX as u64 / 2) & !3),
            ModelFormat::SavedModelPb => small(saved_model_pb(seed)),
            ModelFormat::TfVariablesIndex => {
                let mut head = Vec::new();
                // A data block with one entry name, then a 48-byte footer ending in the magic.
                head.extend_from_slice(b"\x00\x1c\x00_CHECKPOINTABLE_OBJECT_GRAPH");
                head.extend_from_slice(&seed.to_le_bytes());
                head.resize(head.len() + 40, 0);
                head.extend_from_slice(&0xdb47_7524_8b80_fb57u64.to_le_bytes());
                small(head)
            }
            ModelFormat::TfVariablesData => Parts {
                head: Vec::new(),
                payload: floats,
                tail: Vec::new(),
            },
            ModelFormat::KerasH5 => Parts {
                head: {
                    let mut h = b"\x89HDF\r\n\x1a\n\x00\x00\x00\x00\x00\x08\x08\x00".to_vec();
                    h.resize(512, 0);
                    h
                },
                payload: floats,
                tail: Vec::new(),
            },
            ModelFormat::Onnx => {
                // ModelProto: ir_version=8 (1), producer_name (2), graph (7) with a raw tensor.
                let mut m = vec![0x08, 0x08];
                pb_bytes(&mut m, 2, b"pytorch");
                pb_bytes(&mut m, 3, b"2.1.0");
                let mut graph = Vec::new();
                pb_bytes(&mut graph, 2, b"main_graph");
                m.push(0x3a); // field 7, length-delimited
                let payload = size & !3;
                // graph = name + initializer header; the tensor's raw_data is the payload.
                let mut init_head = Vec::new();
                pb_bytes(&mut init_head, 8, b"weight");
                init_head.push(0x6a); // raw_data, field 13
                pb_varint(&mut init_head, payload);
                let init_len = init_head.len() as u64 + payload;
                let mut g = graph;
                g.push(0x2a); // initializer, field 5
                pb_varint(&mut g, init_len);
                pb_varint(&mut m, g.len() as u64 + init_len);
                m.extend_from_slice(&g);
                m.extend_from_slice(&init_head);
                Parts {
                    head: m,
                    payload: floats,
                    tail: Vec::new(),
                }
            }
            ModelFormat::XgboostJson => {
                let trees = 1 + size / 256;
                let mut s = String::from("{\"learner\":{\"attributes\":{},\"feature_names\":[],\"gradient_booster\":{\"model\":{\"gbtree_model_param\":{\"num_trees\":\"");
                s.push_str(&trees.to_string());
                s.push_str("\"},\"trees\":[");
                let mut rng = SplitMix::new(seed);
                for t in 0..trees.min(4096) {
                    if t > 0 {
                        s.push(',');
                    }
                    let w = (rng.next_u64() % 10_000) as f64 / 10_000.0;
                    s.push_str(&format!(
                        "{{\"id\":{t},\"split_conditions\":[{w},0.5,-0.5],\"left_children\":[1,-1,-1],\"right_children\":[2,-1,-1]}}"
                    ));
                }
                s.push_str("]},\"name\":\"gbtree\"},\"objective\":{\"name\":\"reg:squarederror\"}},\"version\":[1,7,6]}");
                small(s.into_bytes())
            }
            ModelFormat::Joblib => {
                // Pickle protocol 4 of a sklearn estimator, then a numpy array payload, as
                // joblib writes it.
                let mut h = vec![0x80, 0x04, 0x95];
                h.extend_from_slice(&(size + 64).to_le_bytes());
                h.push(0x8c);
                let cls = b"sklearn.linear_model._logistic";
                h.push(cls.len() as u8);
                h.extend_from_slice(cls);
                h.push(0x94);
                h.push(0x8c);
                h.push(18);
                h.extend_from_slice(b"LogisticRegression");
                h.extend_from_slice(b"\x94\x93\x94)\x81\x94}\x94(\x8c\x05coef_\x94");
                Parts {
                    head: h,
                    payload: Some((seed, size & !7, Fill::Floats)),
                    tail: b"ub.".to_vec(),
                }
            }
            ModelFormat::HfConfig => small(
                format!(
                    "{{\n  \"architectures\": [\"BertForSequenceClassification\"],\n  \"hidden_size\": {},\n  \"model_type\": \"bert\",\n  \"num_attention_heads\": 12,\n  \"num_hidden_layers\": {},\n  \"torch_dtype\": \"float32\",\n  \"transformers_version\": \"4.44.0\",\n  \"vocab_size\": 30522\n}}\n",
                    64 * (1 + seed % 12),
                    1 + seed % 24
                )
                .into_bytes(),
            ),
            ModelFormat::HfTokenizer => {
                let mut s = String::from("{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"vocab\":{\"[PAD]\":0,\"[UNK]\":1,\"[CLS]\":2,\"[SEP]\":3");
                let mut rng = SplitMix::new(seed);
                let n = 4 + size / 16;
                for i in 4..n.min(100_000) {
                    let w = WORDS[(rng.next_u64() % 16) as usize];
                    s.push_str(&format!(",\"{w}{i}\":{i}"));
                }
                s.push_str("}}}");
                small(s.into_bytes())
            }
            ModelFormat::HfTokenizerConfig => small(
                b"{\n  \"do_lower_case\": true,\n  \"model_max_length\": 512,\n  \"tokenizer_class\": \"BertTokenizer\",\n  \"unk_token\": \"[UNK]\"\n}\n".to_vec(),
            ),
        }
    }
}

fn pb_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn pb_bytes(out: &mut Vec<u8>, field: u32, data: &[u8]) {
    pb_varint(out, (u64::from(field) << 3) | 2);
    pb_varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

/// A `SavedModel` protobuf: schema version 1 and one `MetaGraphDef` tagged `serve`.
fn saved_model_pb(seed: u64) -> Vec<u8> {
    let mut meta_info = Vec::new();
    pb_bytes(&mut meta_info, 4, b"serve");
    pb_bytes(&mut meta_info, 5, b"2.15.0");
    let mut graph = Vec::new();
    let mut node = Vec::new();
    pb_bytes(&mut node, 1, format!("dense_{}", seed % 100).as_bytes());
    pb_bytes(&mut node, 2, b"VarHandleOp");
    pb_bytes(&mut graph, 1, &node);
    let mut meta = Vec::new();
    pb_bytes(&mut meta, 1, &meta_info);
    pb_bytes(&mut meta, 2, &graph);
    let mut out = vec![0x08, 0x01];
    pb_bytes(&mut out, 2, &meta);
    out
}

/// One stored (uncompressed) zip entry, for the torch zip head.
fn zip_local(out: &mut Vec<u8>, name: &[u8], crc: u32, len: u32) -> u32 {
    let offset = out.len() as u32;
    out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(name);
    offset
}

fn zip_central(out: &mut Vec<u8>, name: &[u8], crc: u32, len: u32, offset: u32) {
    out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    out.extend_from_slice(&[20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&(0o100644u32 << 16).to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(name);
}

/// `torch.save` output: `archive/data.pkl`, `archive/version`, then the tensor storage
/// `archive/data/0` as the streamed payload, then the central directory.
fn torch_zip(seed: u64, payload: u64) -> Parts {
    let pkl: &[u8] =
        b"\x80\x02}q\x00X\x06\x00\x00\x00weightq\x01ctorch._utils\n_rebuild_tensor_v2\nq\x02.";
    let version: &[u8] = b"3\n";
    let mut crc = crc32fast::Hasher::new();
    // The storage CRC needs one pass over the seeded payload; it is regenerated, never stored.
    struct CrcWriter<'a>(&'a mut crc32fast::Hasher);
    impl Write for CrcWriter<'_> {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.update(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    // Writing into a hasher cannot fail.
    let _ = write_seeded(&mut CrcWriter(&mut crc), seed, payload, Fill::Floats);
    let data_crc = crc.finalize();
    let mut head = Vec::new();
    let files: [(&[u8], &[u8]); 2] = [(b"archive/data.pkl", pkl), (b"archive/version", version)];
    let mut offsets = Vec::new();
    for (name, data) in files {
        let off = zip_local(&mut head, name, crc32fast::hash(data), data.len() as u32);
        head.extend_from_slice(data);
        offsets.push(off);
    }
    let data_off = zip_local(&mut head, b"archive/data/0", data_crc, payload as u32);
    let cd_start = head.len() as u64 + payload;
    let mut tail = Vec::new();
    for ((name, data), off) in files.iter().zip(&offsets) {
        zip_central(
            &mut tail,
            name,
            crc32fast::hash(data),
            data.len() as u32,
            *off,
        );
    }
    zip_central(
        &mut tail,
        b"archive/data/0",
        data_crc,
        payload as u32,
        data_off,
    );
    let cd_len = tail.len() as u32;
    tail.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    tail.extend_from_slice(&[0, 0, 0, 0, 3, 0, 3, 0]);
    tail.extend_from_slice(&cd_len.to_le_bytes());
    tail.extend_from_slice(&(cd_start as u32).to_le_bytes());
    tail.extend_from_slice(&[0, 0]);
    Parts {
        head,
        payload: Some((seed, payload, Fill::Floats)),
        tail,
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
