//! Model-file integrity rules: `model-file-truncated`, `model-file-corrupt`, `unsafe-pickle`,
//! from what the format readers found in each file ([`Scans`]), and across files: a sharded
//! safetensors index against its shards, ONNX external data against the files beside the
//! model, a SavedModel's `variables.data-NNNNN-of-MMMMM` shards against their count.

use std::collections::{BTreeMap, BTreeSet};

use crate::detect::code::Code;
use crate::detect::finding::{finding, Finding, Where};
use crate::detect::fix;
use crate::detect::integrity::{Scanned, Scans};
use crate::detect::tree::{resolve_inside, NodeKind, Tree};
use crate::formats::{FormatError, ImportVerdict, Kind};
use crate::layout::RawPath;

/// Every integrity finding for a tree and what was read from it.
pub(crate) fn integrity(root: Where, t: &Tree, scans: &Scans, out: &mut Vec<Finding>) {
    for (p, s) in &scans.files {
        match s {
            Scanned::File(kind, r) => file_findings(root, p, *kind, r, t, out),
            Scanned::Index(Ok(ix)) => index_findings(root, p, ix, t, scans, out),
            Scanned::Index(Err(e)) => {
                if let Some(f) = error_finding(root, p, "sharded safetensors index", e) {
                    out.push(f);
                }
            }
        }
    }
    savedmodel_shards(root, t, out);
}

/// The finding for a reader's error (none for a read error).
fn error_finding(root: Where, p: &RawPath, what: &str, e: &FormatError) -> Option<Finding> {
    match e {
        FormatError::Truncated { says, found } => Some(finding(
            Code::ModelFileTruncated,
            root,
            Some(p.clone()),
            format!("`{p}` ({what}) is cut short: {says}, but {found}; it will not load"),
            fix::MODEL_FILE_TRUNCATED,
        )),
        FormatError::Corrupt(m) => Some(finding(
            Code::ModelFileCorrupt,
            root,
            Some(p.clone()),
            format!("`{p}` ({what}) does not parse: {m}; it will not load"),
            fix::MODEL_FILE_CORRUPT,
        )),
        FormatError::Io(_) => None,
    }
}

/// One file's findings: its framing, its pickle imports, its ONNX external data.
fn file_findings(
    root: Where,
    p: &RawPath,
    kind: Kind,
    r: &Result<crate::formats::FileReport, FormatError>,
    t: &Tree,
    out: &mut Vec<Finding>,
) {
    let rep = match r {
        Ok(rep) => rep,
        Err(e) => {
            out.extend(error_finding(root, p, kind.name(), e));
            return;
        }
    };
    let bad: Vec<String> = rep
        .unsafe_imports()
        .take(8)
        .map(|i| {
            let why = if i.verdict == ImportVerdict::Dangerous {
                "dangerous"
            } else {
                "not on the safe list"
            };
            format!("{}.{} ({why})", i.module, i.name)
        })
        .collect();
    if !bad.is_empty() {
        out.push(finding(
            Code::UnsafePickle,
            root,
            Some(p.clone()),
            format!(
                "`{p}` ({}) imports {} when unpickled: loading it runs that code",
                kind.name(),
                bad.join(", ")
            ),
            fix::unsafe_pickle(kind, &String::from_utf8_lossy(p.file_name())),
        ));
    }
    let mut problems = Vec::new();
    for x in &rep.external {
        let want = x.offset.saturating_add(x.length.unwrap_or(0));
        let problem = match resolve_inside(p, x.location.as_bytes()) {
            None => format!("`{}` leaves the model dir", x.location),
            Some(q) => match t.nodes.get(&q) {
                Some(n) if n.kind == NodeKind::File && n.size >= want => continue,
                Some(n) if n.kind == NodeKind::File => format!(
                    "`{q}` has {} bytes, fewer than offset {} + length {}",
                    n.size,
                    x.offset,
                    x.length.unwrap_or(0)
                ),
                _ => format!("`{q}` is not there"),
            },
        };
        problems.push(format!("tensor `{}`: {problem}", x.tensor));
    }
    if !problems.is_empty() {
        let n = problems.len();
        problems.truncate(4);
        out.push(finding(
            Code::ModelFileTruncated,
            root,
            Some(p.clone()),
            format!(
                "`{p}` (ONNX) keeps {n} tensor(s) in external data files that are missing or short: {}",
                problems.join("; ")
            ),
            fix::ONNX_EXTERNAL_DATA,
        ));
    }
}

/// A sharded index: every shard it names is there, and holds the tensors mapped to it.
fn index_findings(
    root: Where,
    p: &RawPath,
    ix: &crate::formats::ShardIndex,
    t: &Tree,
    scans: &Scans,
    out: &mut Vec<Finding>,
) {
    let mut by_shard: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (tensor, shard) in &ix.weight_map {
        by_shard.entry(shard).or_default().push(tensor);
    }
    let mut missing = Vec::new();
    let mut absent = Vec::new();
    for (shard, tensors) in &by_shard {
        let q = resolve_inside(p, shard.as_bytes());
        let there = q
            .as_ref()
            .and_then(|q| t.nodes.get(q))
            .is_some_and(|n| n.kind == NodeKind::File);
        if !there {
            missing.push(format!("`{shard}`"));
            continue;
        }
        if let Some(Scanned::File(_, Ok(rep))) = q.as_ref().and_then(|q| scans.files.get(q)) {
            let have: BTreeSet<&str> = rep.tensors.iter().map(String::as_str).collect();
            for x in tensors.iter().filter(|x| !have.contains(**x)).take(4) {
                absent.push(format!("`{x}` is not in `{shard}`"));
            }
        }
    }
    if !missing.is_empty() {
        out.push(finding(
            Code::ModelFileTruncated,
            root,
            Some(p.clone()),
            format!(
                "`{p}` maps tensors to shard(s) {} that are not there: the checkpoint is incomplete and from_pretrained fails",
                missing.join(", ")
            ),
            fix::SHARD_MISSING,
        ));
    }
    if !absent.is_empty() {
        out.push(finding(
            Code::ModelFileCorrupt,
            root,
            Some(p.clone()),
            format!(
                "`{p}` maps tensors to shards that lack them: {}",
                absent.join("; ")
            ),
            fix::SHARD_MISMATCH,
        ));
    }
}

/// `variables.data-NNNNN-of-MMMMM`: (index, count), when the name has that form.
fn shard_of(name: &[u8]) -> Option<(u64, u64)> {
    let rest = name.strip_prefix(b"variables.data-")?;
    let s = std::str::from_utf8(rest).ok()?;
    let (i, m) = s.split_once("-of-")?;
    let (i, m): (u64, u64) = (i.parse().ok()?, m.parse().ok()?);
    (i < m && m <= 100_000).then_some((i, m))
}

/// A SavedModel's variables shards: all `MMMMM` of them are there.
fn savedmodel_shards(root: Where, t: &Tree, out: &mut Vec<Finding>) {
    let mut groups: BTreeMap<(RawPath, u64), BTreeSet<u64>> = BTreeMap::new();
    for (p, n) in &t.nodes {
        if let (NodeKind::File, Some((i, m))) = (n.kind, shard_of(p.file_name())) {
            let dir = p.parent().unwrap_or_default();
            groups.entry((dir, m)).or_default().insert(i);
        }
    }
    for ((dir, m), have) in groups {
        for i in (0..m).filter(|i| !have.contains(i)).take(4) {
            let name = format!("variables.data-{i:05}-of-{m:05}");
            let path = dir.join(name.as_bytes());
            out.push(finding(
                Code::ModelFileTruncated,
                root,
                Some(path.clone()),
                format!("`{path}` is missing: the SavedModel's variables are in {m} shards and only {} are there; TensorFlow cannot restore the weights", have.len()),
                fix::SAVEDMODEL_SHARD_MISSING,
            ));
        }
    }
}
