//! A bounded protobuf walker (varints and length-delimited fields, never a message built in
//! memory) for TF SavedModel's `saved_model.pb` and ONNX's `ModelProto`: every field's length
//! must fit inside its parent message and the file, and the messages' required fields must be
//! there (a SavedModel's `meta_graphs`, an ONNX model's `graph` and `opset_import`, which
//! serializers write last and first-after-`graph`, so a file cut between fields is caught). For
//! ONNX it descends into `graph.initializer` and lists each tensor's `external_data`
//! ([`ExternalData`]) for the detector to resolve against the files beside the model.

use std::io::Read;

use super::src::Src;
use super::{FileReport, FormatError};

/// The deepest message nesting walked.
const MAX_DEPTH: u32 = 64;
/// The longest string kept (tensor names, locations).
const MAX_STRING: u64 = 4096;
/// The most external-data tensors listed.
const MAX_EXTERNAL: usize = 1_000_000;

/// One ONNX tensor whose bytes live in another file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExternalData {
    /// The tensor's name.
    pub tensor: String,
    /// `location`: a path relative to the model file's dir.
    pub location: String,
    /// `offset` into that file (0 when absent).
    pub offset: u64,
    /// `length` in bytes, when given.
    pub length: Option<u64>,
}

/// Reads a varint (at most 10 bytes).
fn varint<R: Read>(s: &mut Src<R>) -> Result<u64, FormatError> {
    let mut v = 0u64;
    for i in 0..10 {
        let b = s.u8("a protobuf varint")?;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(FormatError::Corrupt(format!(
        "a protobuf varint at byte {} runs past 10 bytes",
        s.pos
    )))
}

/// What a field visitor did with a length-delimited field.
type Visit<'a, R> = &'a mut dyn FnMut(&mut Src<R>, u64, u64, u32) -> Result<bool, FormatError>;

/// Walks the fields of a message that ends at byte `end`. `visit(s, field, end_of_field,
/// depth)` sees each length-delimited field first and returns true when it read it whole;
/// varint fields are passed with `end_of_field == u64::MAX` and their value in `s`'s last
/// read is not kept (only field numbers matter to the callers).
fn fields<R: Read>(
    s: &mut Src<R>,
    end: u64,
    depth: u32,
    visit: Visit<'_, R>,
    seen: &mut Vec<u64>,
) -> Result<(), FormatError> {
    if depth > MAX_DEPTH {
        return Err(FormatError::Corrupt(format!(
            "protobuf messages nest deeper than {MAX_DEPTH}"
        )));
    }
    while s.pos < end {
        let at = s.pos;
        let key = varint(s)?;
        let (field, wire) = (key >> 3, key & 7);
        if field == 0 {
            return Err(FormatError::Corrupt(format!(
                "protobuf field number 0 at byte {at}: not a protobuf message"
            )));
        }
        if depth == 0 && seen.len() < 64 && !seen.contains(&field) {
            seen.push(field);
        }
        match wire {
            0 => {
                varint(s)?;
            }
            1 => s.skip(8, "a protobuf fixed64")?,
            5 => s.skip(4, "a protobuf fixed32")?,
            2 => {
                let n = varint(s)?;
                let field_end = s.pos.saturating_add(n);
                if field_end > end && end < s.len {
                    return Err(FormatError::Corrupt(format!(
                        "protobuf field {field} at byte {at} is {n} bytes, past the end of its parent message (byte {end})"
                    )));
                }
                s.need(n, &format!("protobuf field {field} at byte {at}"))?;
                if !visit(s, field, field_end, depth)? {
                    s.skip(field_end - s.pos, "a protobuf field")?;
                }
                if s.pos != field_end {
                    return Err(FormatError::Corrupt(format!(
                        "protobuf field {field} at byte {at} does not end where its length says"
                    )));
                }
            }
            w => {
                return Err(FormatError::Corrupt(format!(
                    "protobuf wire type {w} at byte {at}: not a protobuf message this reader knows"
                )))
            }
        }
    }
    if s.pos > end {
        return Err(FormatError::Corrupt(format!(
            "a protobuf field runs past its message's end (byte {end})"
        )));
    }
    Ok(())
}

/// A string field's value, bounded.
fn string<R: Read>(s: &mut Src<R>, end: u64) -> Result<String, FormatError> {
    let b = s.read_vec(end - s.pos, MAX_STRING, "a protobuf string")?;
    Ok(String::from_utf8_lossy(&b).into_owned())
}

/// The message must hold each of `required` at its top level, or the file was cut.
fn require<R: Read>(
    s: &Src<R>,
    seen: &[u64],
    required: &[(u64, &str)],
    what: &str,
) -> Result<(), FormatError> {
    for (f, name) in required {
        if !seen.contains(f) {
            return Err(FormatError::Truncated {
                says: format!("{what} always holds `{name}` (field {f})"),
                found: format!("the file ends at byte {} without it", s.len),
            });
        }
    }
    Ok(())
}

/// `saved_model.pb`: a `SavedModel` message with its `meta_graphs`.
pub(super) fn check_saved_model<R: Read>(s: &mut Src<R>) -> Result<FileReport, FormatError> {
    let mut seen = Vec::new();
    let end = s.len;
    fields(s, end, 0, &mut |_, _, _, _| Ok(false), &mut seen)?;
    require(s, &seen, &[(2, "meta_graphs")], "a SavedModel")?;
    Ok(FileReport::default())
}

/// An ONNX `ModelProto`: framing, `graph` and `opset_import`, and the initializers' external
/// data.
pub(super) fn check_onnx<R: Read>(s: &mut Src<R>) -> Result<FileReport, FormatError> {
    let mut seen = Vec::new();
    let mut ext = Vec::new();
    let end = s.len;
    fields(
        s,
        end,
        0,
        &mut |s, f, fend, d| {
            if f != 7 {
                return Ok(false);
            }
            let mut inner = Vec::new();
            fields(
                s,
                fend,
                d + 1,
                &mut |s, f, tend, d| {
                    if f != 5 {
                        return Ok(false);
                    }
                    tensor(s, tend, d + 1, &mut ext)?;
                    Ok(true)
                },
                &mut inner,
            )?;
            Ok(true)
        },
        &mut seen,
    )?;
    require(
        s,
        &seen,
        &[(7, "graph"), (8, "opset_import")],
        "an ONNX model",
    )?;
    Ok(FileReport {
        external: ext,
        ..FileReport::default()
    })
}

/// A `TensorProto`: its name, and its `external_data` entries when `data_location` is
/// EXTERNAL (or entries are there).
fn tensor<R: Read>(
    s: &mut Src<R>,
    end: u64,
    depth: u32,
    out: &mut Vec<ExternalData>,
) -> Result<(), FormatError> {
    let mut t = ExternalData::default();
    let mut has_location = false;
    let mut unused = Vec::new();
    fields(
        s,
        end,
        depth,
        &mut |s, f, fend, d| match f {
            8 => {
                t.tensor = string(s, fend)?;
                Ok(true)
            }
            13 => {
                let (mut k, mut v) = (String::new(), String::new());
                fields(
                    s,
                    fend,
                    d + 1,
                    &mut |s, f, e, _| {
                        match f {
                            1 => k = string(s, e)?,
                            2 => v = string(s, e)?,
                            _ => return Ok(false),
                        }
                        Ok(true)
                    },
                    &mut Vec::new(),
                )?;
                match k.as_str() {
                    "location" => {
                        t.location = v;
                        has_location = true;
                    }
                    "offset" => t.offset = v.trim().parse().unwrap_or(0),
                    "length" => t.length = v.trim().parse().ok(),
                    _ => {}
                }
                Ok(true)
            }
            _ => Ok(false),
        },
        &mut unused,
    )?;
    if has_location && out.len() < MAX_EXTERNAL {
        out.push(t);
    }
    Ok(())
}
