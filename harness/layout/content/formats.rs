//! The model formats packtest can generate ([`ModelFormat`]) and their bytes: each format
//! split into an in-memory head, a streamed seeded payload and an in-memory tail ([`Parts`]),
//! with the magic and structure serving containers and packtest's detector sniff.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::seeded::{write_seeded, Fill, SplitMix, WORDS};

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

/// A format file split into an in-memory head, a streamed payload, and an in-memory tail.
pub(super) struct Parts {
    /// The bytes before the payload.
    pub(super) head: Vec<u8>,
    /// The streamed payload: seed, length and fill.
    pub(super) payload: Option<(u64, u64, Fill)>,
    /// The bytes after the payload.
    pub(super) tail: Vec<u8>,
}

impl Parts {
    /// A format that is all head: no payload, no tail.
    fn small(head: Vec<u8>) -> Parts {
        Parts {
            head,
            payload: None,
            tail: Vec::new(),
        }
    }
}

/// The parts of a `format` file from `seed` with a payload of about `size` bytes.
pub(super) fn parts(format: ModelFormat, seed: u64, size: u64) -> Parts {
    let floats = Some((seed, size & !3, Fill::Floats));
    let small = Parts::small;
    match format {
        ModelFormat::Safetensors => safetensors(size, floats),
        ModelFormat::TorchZip => torch_zip(seed, size.min(u32::MAX as u64 / 2) & !3),
        ModelFormat::SavedModelPb => small(saved_model_pb(seed)),
        ModelFormat::TfVariablesIndex => small(tf_variables_index(seed)),
        ModelFormat::TfVariablesData => Parts {
            head: Vec::new(),
            payload: floats,
            tail: Vec::new(),
        },
        ModelFormat::KerasH5 => Parts {
            head: hdf5_head(512 + (size & !3)),
            payload: floats,
            tail: Vec::new(),
        },
        ModelFormat::Onnx => onnx(size, floats),
        ModelFormat::XgboostJson => small(xgboost_json(seed, size)),
        ModelFormat::Joblib => joblib(seed, size),
        ModelFormat::HfConfig => small(hf_config(seed)),
        ModelFormat::HfTokenizer => small(hf_tokenizer(seed, size)),
        ModelFormat::HfTokenizerConfig => small(
            b"{\n  \"do_lower_case\": true,\n  \"model_max_length\": 512,\n  \"tokenizer_class\": \"BertTokenizer\",\n  \"unk_token\": \"[UNK]\"\n}\n".to_vec(),
        ),
    }
}

/// An HDF5 version-0 superblock, padded to 512 bytes: 8-byte addresses, base address 0, no
/// free-space info or driver block, and the end-of-file address `eof` (the file's length).
fn hdf5_head(eof: u64) -> Vec<u8> {
    let mut h = b"\x89HDF\r\n\x1a\n\x00\x00\x00\x00\x00\x08\x08\x00".to_vec();
    h.extend_from_slice(&[4, 0, 16, 0, 0, 0, 0, 0]);
    h.extend_from_slice(&0u64.to_le_bytes());
    h.extend_from_slice(&u64::MAX.to_le_bytes());
    h.extend_from_slice(&eof.to_le_bytes());
    h.extend_from_slice(&u64::MAX.to_le_bytes());
    h.resize(512, 0);
    h
}

/// safetensors: the u64 header length, the JSON header padded to 8 bytes, the tensor data.
fn safetensors(size: u64, floats: Option<(u64, u64, Fill)>) -> Parts {
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

/// `variables.index`: a TF table data block, then the 48-byte footer ending in its magic.
fn tf_variables_index(seed: u64) -> Vec<u8> {
    let mut head = Vec::new();
    // A data block with one entry name, then a 48-byte footer ending in the magic.
    head.extend_from_slice(b"\x00\x1c\x00_CHECKPOINTABLE_OBJECT_GRAPH");
    head.extend_from_slice(&seed.to_le_bytes());
    head.resize(head.len() + 40, 0);
    head.extend_from_slice(&0xdb47_7524_8b80_fb57u64.to_le_bytes());
    head
}

/// An ONNX `ModelProto` whose one initializer tensor's `raw_data` is the payload.
fn onnx(size: u64, floats: Option<(u64, u64, Fill)>) -> Parts {
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
    init_head.push(0x4a); // raw_data, field 9
    pb_varint(&mut init_head, payload);
    let init_len = init_head.len() as u64 + payload;
    let mut g = graph;
    g.push(0x2a); // initializer, field 5
    pb_varint(&mut g, init_len);
    pb_varint(&mut m, g.len() as u64 + init_len);
    m.extend_from_slice(&g);
    m.extend_from_slice(&init_head);
    // opset_import (8) after the graph, as serializers write it: { domain "", version 17 }.
    let tail = vec![0x42, 0x04, 0x0a, 0x00, 0x10, 0x11];
    Parts {
        head: m,
        payload: floats,
        tail,
    }
}

/// XGBoost's JSON model: about one tree per 256 bytes of `size`, at most 4096.
fn xgboost_json(seed: u64, size: u64) -> Vec<u8> {
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
    s.into_bytes()
}

/// `joblib.dump` of a sklearn estimator: a protocol-4 pickle, a float payload, `ub.`.
fn joblib(seed: u64, size: u64) -> Parts {
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
    // The array's bytes as one BINBYTES8 value, so that the stream stays a valid pickle.
    let payload = size & !7;
    h.push(0x8e);
    h.extend_from_slice(&payload.to_le_bytes());
    Parts {
        head: h,
        payload: Some((seed, payload, Fill::Floats)),
        tail: b"ub.".to_vec(),
    }
}

/// A Hugging Face BERT `config.json`; sizes follow the seed.
fn hf_config(seed: u64) -> Vec<u8> {
    format!(
        "{{\n  \"architectures\": [\"BertForSequenceClassification\"],\n  \"hidden_size\": {},\n  \"model_type\": \"bert\",\n  \"num_attention_heads\": 12,\n  \"num_hidden_layers\": {},\n  \"torch_dtype\": \"float32\",\n  \"transformers_version\": \"4.44.0\",\n  \"vocab_size\": 30522\n}}\n",
        64 * (1 + seed % 12),
        1 + seed % 24
    )
    .into_bytes()
}

/// A Hugging Face WordPiece `tokenizer.json`: about one vocab entry per 16 bytes of `size`.
fn hf_tokenizer(seed: u64, size: u64) -> Vec<u8> {
    let mut s = String::from("{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"vocab\":{\"[PAD]\":0,\"[UNK]\":1,\"[CLS]\":2,\"[SEP]\":3");
    let mut rng = SplitMix::new(seed);
    let n = 4 + size / 16;
    for i in 4..n.min(100_000) {
        let w = WORDS[(rng.next_u64() % 16) as usize];
        s.push_str(&format!(",\"{w}{i}\":{i}"));
    }
    s.push_str("}}}");
    s.into_bytes()
}

/// Appends `v` as a protobuf varint.
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

/// Appends a length-delimited protobuf field.
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

/// One central-directory record for a stored zip entry.
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
