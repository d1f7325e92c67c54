//! safetensors: the 8-byte header length, the JSON header, and the rules Hugging Face's
//! reader applies (`safetensors::SafeTensors::deserialize`): the header is at most
//! [`MAX_HEADER`] bytes; tensors' `data_offsets` start at 0, are contiguous, never overlap and
//! end exactly where the file ends; each tensor's byte length is its dtype's size times its
//! shape's product. And the sharded index (`model.safetensors.index.json`, [`read_index`]).

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use super::src::Src;
use super::{FileReport, FormatError};

/// The largest header accepted, in bytes: Hugging Face's `MAX_HEADER_SIZE` (100 MB).
pub const MAX_HEADER: u64 = 100_000_000;

/// The largest sharded index read, in bytes.
const MAX_INDEX: u64 = 64 << 20;

/// One tensor's header entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TensorInfo {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: (u64, u64),
}

/// The header: tensors by name (`__metadata__` checked for shape and dropped).
struct Header(Vec<(String, TensorInfo)>);

impl<'de> Deserialize<'de> for Header {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Header;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of tensors")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Header, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<String>()? {
                    if k == "__metadata__" {
                        m.next_value::<BTreeMap<String, String>>()?;
                    } else {
                        out.push((k, m.next_value::<TensorInfo>()?));
                    }
                }
                Ok(Header(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A dtype's size in bits, as the safetensors crate's `Dtype::bitsize`.
fn dtype_bits(d: &str) -> Option<u64> {
    Some(match d {
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        _ => return None,
    })
}

/// Checks a safetensors file (see the module doc). Reads the header only: the tensor bytes
/// are judged by their offsets against the length.
pub(super) fn check<R: Read>(s: &mut Src<R>) -> Result<FileReport, FormatError> {
    let n = s.u64("the 8-byte header length")?;
    if n > MAX_HEADER {
        return Err(FormatError::Corrupt(format!(
            "the header length field says {n} bytes, more than the {MAX_HEADER}-byte limit safetensors readers accept"
        )));
    }
    let raw = s.read_vec(n, MAX_HEADER, "the JSON header")?;
    if raw.first() != Some(&b'{') {
        return Err(FormatError::Corrupt(
            "the header does not start with `{`: not a safetensors header".into(),
        ));
    }
    let Header(mut tensors) = serde_json::from_slice(&raw)
        .map_err(|e| FormatError::Corrupt(format!("the JSON header does not parse: {e}")))?;
    drop(raw);
    tensors.sort_by_key(|(_, t)| t.data_offsets);
    let mut end = 0u64;
    for (name, t) in &tensors {
        let (b, e) = t.data_offsets;
        if b != end {
            return Err(FormatError::Corrupt(format!(
                "tensor `{name}` starts at data byte {b}, but the previous tensor ends at {end}: offsets must be contiguous, without gaps or overlaps"
            )));
        }
        if e < b {
            return Err(FormatError::Corrupt(format!(
                "tensor `{name}` ends (byte {e}) before it starts (byte {b})"
            )));
        }
        let bits = dtype_bits(&t.dtype).ok_or_else(|| {
            FormatError::Corrupt(format!("tensor `{name}` has unknown dtype `{}`", t.dtype))
        })?;
        let want = t
            .shape
            .iter()
            .try_fold(bits, |acc, d| acc.checked_mul(*d))
            .filter(|b| b % 8 == 0)
            .map(|b| b / 8);
        if want != Some(e - b) {
            return Err(FormatError::Corrupt(format!(
                "tensor `{name}` is {} bytes by its offsets, but dtype {} x shape {:?} is {}",
                e - b,
                t.dtype,
                t.shape,
                want.map_or("not a whole number of bytes".into(), |w| w.to_string()),
            )));
        }
        end = e;
    }
    let have = s.left();
    if end > have {
        return Err(FormatError::Truncated {
            says: format!(
                "the header says the tensor data is {end} bytes (the file {} bytes)",
                8 + n + end
            ),
            found: format!("the file has {} bytes, {have} of tensor data", s.len),
        });
    }
    if end < have {
        return Err(FormatError::Corrupt(format!(
            "the header says the tensor data is {end} bytes, but {have} follow the header: {} bytes the header does not account for",
            have - end
        )));
    }
    Ok(FileReport {
        tensors: tensors.into_iter().map(|(n, _)| n).collect(),
        ..FileReport::default()
    })
}

/// A sharded checkpoint's index: which shard file holds each tensor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ShardIndex {
    /// Tensor name to shard file name (relative to the index's dir).
    pub weight_map: BTreeMap<String, String>,
}

/// Reads a `*.safetensors.index.json` of `len` bytes (at most 64 MiB).
pub fn read_index(r: impl Read, len: u64) -> Result<ShardIndex, FormatError> {
    let mut s = Src::new(r, len);
    let raw = s.read_vec(len, MAX_INDEX, "the index JSON")?;
    #[derive(Deserialize)]
    struct Whole {
        weight_map: BTreeMap<String, String>,
        #[serde(flatten)]
        _rest: BTreeMap<String, IgnoredAny>,
    }
    let w: Whole = serde_json::from_slice(&raw).map_err(|e| {
        if e.is_eof() {
            FormatError::Truncated {
                says: "the index JSON is still open".into(),
                found: format!("the file ends at byte {len}"),
            }
        } else {
            FormatError::Corrupt(format!(
                "the index does not parse as JSON with a `weight_map`: {e}"
            ))
        }
    })?;
    Ok(ShardIndex {
        weight_map: w.weight_map,
    })
}
