//! Two archives compared field by field: what `packtest diff A B` prints and what a
//! `deterministic` failure shows.
//!
//! [`diff_archives`] reads both archives with the bounded reader of [`crate::archive`] (never
//! extracting; member data is hashed as it streams by), then compares:
//! - the gzip layer: compression, number of gzip members, and the first member's header
//!   fields (`mtime`, `os`, `xfl`, `name`, `comment`, `extra`);
//! - the member list: members only in one archive, and the first position where the order
//!   of the members both hold differs;
//! - each member present in both (paired by normalized path; a duplicated path pairs its
//!   first occurrences, then its second ones, …): type, mode, uid/gid, uname/gname, mtime,
//!   size, content sha256, link target, device numbers and pax records.
//!
//! For a member whose content differs, the first differing byte offset is found by a second
//! pass (`lockstep`) that streams both archives at once and compares the two members'
//! bytes in lockstep; memory stays bounded whatever the archives' size. Pairs that do not
//! come in the same relative order in both archives get no offset.

mod lockstep;
mod render;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::archive::{ArchiveError, Compression, Limits, Manifest, Member};
use crate::layout::RawPath;

pub use render::render_text;

/// Why two archives could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// One archive could not be read to its end.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The archive.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: ArchiveError,
    },
}

/// One field whose value differs between the two archives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The field: `mode`, `mtime`, `sha256`, `pax:mtime`, …
    pub field: String,
    /// Its value in A (rendered; `-` when absent).
    pub a: String,
    /// Its value in B.
    pub b: String,
}

/// A member present in both archives with some fields different.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberDiff {
    /// The normalized member path.
    pub path: RawPath,
    /// Its position in A (0-based).
    pub index_a: usize,
    /// Its position in B.
    pub index_b: usize,
    /// The fields that differ, in a fixed order.
    pub changes: Vec<FieldChange>,
    /// For differing content: the offset of the first differing byte (or the shorter
    /// length, when one content is a prefix of the other), when it was located.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_difference: Option<u64>,
}

/// The first position where the members both archives hold come in another order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderChange {
    /// The position among the common members (0-based).
    pub position: usize,
    /// The member at that position in A.
    pub a: RawPath,
    /// The member at that position in B.
    pub b: RawPath,
}

/// Everything that differs between archive A and archive B; empty means the same.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ArchiveDiff {
    /// Compression layer and gzip header fields.
    pub gzip: Vec<FieldChange>,
    /// Members only in A, in A's order.
    pub only_in_a: Vec<RawPath>,
    /// Members only in B, in B's order.
    pub only_in_b: Vec<RawPath>,
    /// The first order difference among the common members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderChange>,
    /// The common members that differ, in A's order.
    pub members: Vec<MemberDiff>,
    /// The files are not byte-identical although no field above differs (deflate choices,
    /// tar padding or header encoding).
    pub bytes_only: bool,
}

impl ArchiveDiff {
    /// True when nothing differs.
    pub fn is_empty(&self) -> bool {
        self.gzip.is_empty()
            && self.only_in_a.is_empty()
            && self.only_in_b.is_empty()
            && self.order.is_none()
            && self.members.is_empty()
            && !self.bytes_only
    }
}

/// Reads both archives (in parallel) and compares them; see the module docs.
pub fn diff_archives(a: &Path, b: &Path, limits: Limits) -> Result<ArchiveDiff, DiffError> {
    let read = |p: &Path| {
        Manifest::read_path(p, limits).map_err(|source| DiffError::Read {
            path: p.to_owned(),
            source,
        })
    };
    let (ma, mb) = std::thread::scope(|s| {
        let ha = s.spawn(|| read(a));
        let mb = read(b);
        (
            ha.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            mb,
        )
    });
    let (ma, mb) = (ma?, mb?);
    let mut d = compare_manifests(&ma, &mb);
    let pairs: Vec<(u64, u64)> = d
        .members
        .iter()
        .filter(|m| {
            m.changes.iter().any(|c| c.field == "sha256")
                && !m.changes.iter().any(|c| c.field == "type")
        })
        .map(|m| (m.index_a as u64, m.index_b as u64))
        .collect();
    if !pairs.is_empty() {
        let offsets = lockstep::first_differences(a, b, &pairs, limits);
        let mut by_pair: HashMap<(u64, u64), u64> = HashMap::new();
        for (p, o) in pairs.iter().zip(offsets) {
            if let Some(o) = o {
                by_pair.insert(*p, o);
            }
        }
        for m in &mut d.members {
            m.first_difference = by_pair.get(&(m.index_a as u64, m.index_b as u64)).copied();
        }
    }
    if d.is_empty() && !same_bytes(a, b) {
        d.bytes_only = true;
    }
    Ok(d)
}

/// True when the two files hash the same.
fn same_bytes(a: &Path, b: &Path) -> bool {
    match (crate::layout::hash_file(a), crate::layout::hash_file(b)) {
        (Ok(x), Ok(y)) => x.0 == y.0,
        _ => false,
    }
}

fn change(field: &str, a: impl ToString, b: impl ToString) -> FieldChange {
    FieldChange {
        field: field.to_owned(),
        a: a.to_string(),
        b: b.to_string(),
    }
}

fn bytes_or_dash(v: Option<&[u8]>) -> String {
    match v {
        Some(b) => RawPath::new(b.to_vec()).display(),
        None => "-".into(),
    }
}

/// Pushes a change of `field` when `a` and `b` differ, each side shown by `show`.
fn push_if<V: PartialEq>(
    out: &mut Vec<FieldChange>,
    field: &str,
    a: V,
    b: V,
    show: impl Fn(&V) -> String,
) {
    if a != b {
        out.push(change(field, show(&a), show(&b)));
    }
}

/// Bytes as hex, `-` when absent.
fn hex_or_dash(v: Option<&[u8]>) -> String {
    v.map_or("-".into(), |x| RawPath::new(x.to_vec()).to_hex())
}

/// The gzip layer's differences.
fn compare_gzip(a: &Manifest, b: &Manifest) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let name = |c: &Compression| match c {
        Compression::Gzip => "gzip".to_owned(),
        Compression::None => "none".to_owned(),
    };
    push_if(&mut out, "compression", a.compression, b.compression, name);
    push_if(
        &mut out,
        "gzip-members",
        a.gzip_members,
        b.gzip_members,
        ToString::to_string,
    );
    // A plain tar has no header to compare; the compression change says it all.
    let (Some(ha), Some(hb)) = (&a.gzip_header, &b.gzip_header) else {
        return out;
    };
    push_if(&mut out, "mtime", ha.mtime, hb.mtime, ToString::to_string);
    push_if(&mut out, "os", ha.os, hb.os, ToString::to_string);
    push_if(&mut out, "xfl", ha.xfl, hb.xfl, ToString::to_string);
    push_if(&mut out, "name", &ha.file_name, &hb.file_name, |n| {
        bytes_or_dash(n.as_deref())
    });
    push_if(
        &mut out,
        "comment",
        ha.has_comment,
        hb.has_comment,
        ToString::to_string,
    );
    push_if(&mut out, "extra", &ha.extra, &hb.extra, |x| {
        hex_or_dash(x.as_deref())
    });
    out
}

/// Each member keyed by (normalized path, occurrence).
fn keyed(m: &Manifest) -> Vec<(RawPath, usize)> {
    let mut seen: HashMap<&RawPath, usize> = HashMap::new();
    m.members
        .iter()
        .map(|x| {
            let n = seen.entry(&x.path).or_insert(0);
            *n += 1;
            (x.path.clone(), *n - 1)
        })
        .collect()
}

/// Compares two manifests (everything but the first-difference offsets).
pub fn compare_manifests(a: &Manifest, b: &Manifest) -> ArchiveDiff {
    let ka = keyed(a);
    let kb = keyed(b);
    let index_b: HashMap<&(RawPath, usize), usize> =
        kb.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let index_a: HashMap<&(RawPath, usize), usize> =
        ka.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let mut d = ArchiveDiff {
        gzip: compare_gzip(a, b),
        ..ArchiveDiff::default()
    };
    let mut common_a = Vec::new();
    for (i, k) in ka.iter().enumerate() {
        match index_b.get(k) {
            Some(&j) => {
                common_a.push(k);
                let changes = compare_members(&a.members[i], &b.members[j]);
                if !changes.is_empty() {
                    d.members.push(MemberDiff {
                        path: k.0.clone(),
                        index_a: i,
                        index_b: j,
                        changes,
                        first_difference: None,
                    });
                }
            }
            None => d.only_in_a.push(k.0.clone()),
        }
    }
    let common_b: Vec<&(RawPath, usize)> = kb
        .iter()
        .filter(|k| {
            if index_a.contains_key(k) {
                true
            } else {
                d.only_in_b.push(k.0.clone());
                false
            }
        })
        .collect();
    d.order = common_a
        .iter()
        .zip(&common_b)
        .position(|(x, y)| x != y)
        .map(|position| OrderChange {
            position,
            a: common_a[position].0.clone(),
            b: common_b[position].0.clone(),
        });
    d
}

/// The fields of two members that differ, in a fixed order.
fn compare_members(a: &Member, b: &Member) -> Vec<FieldChange> {
    let mut out = Vec::new();
    push_if(&mut out, "type", a.kind, b.kind, |k| k.name().to_owned());
    push_if(&mut out, "mode", a.mode, b.mode, |m| format!("{m:04o}"));
    push_if(&mut out, "uid", a.uid, b.uid, ToString::to_string);
    push_if(&mut out, "gid", a.gid, b.gid, ToString::to_string);
    push_if(&mut out, "uname", &a.uname, &b.uname, |n| {
        bytes_or_dash(Some(n))
    });
    push_if(&mut out, "gname", &a.gname, &b.gname, |n| {
        bytes_or_dash(Some(n))
    });
    push_if(&mut out, "mtime", a.mtime, b.mtime, ToString::to_string);
    push_if(&mut out, "size", a.size, b.size, ToString::to_string);
    push_if(&mut out, "sha256", a.sha256, b.sha256, |h| {
        hex_or_dash(h.as_ref().map(|h| &h[..]))
    });
    push_if(
        &mut out,
        "link-target",
        &a.link_target,
        &b.link_target,
        |t| t.as_ref().map_or("-".into(), RawPath::display),
    );
    push_if(&mut out, "device", a.device, b.device, |d| {
        d.map_or("-".into(), |(x, y)| format!("{x},{y}"))
    });
    out.extend(compare_pax(&a.pax, &b.pax));
    out
}

/// The pax records that differ, as `pax:KEY` fields.
fn compare_pax(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) -> Vec<FieldChange> {
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            change(
                &format!("pax:{k}"),
                bytes_or_dash(a.get(k).map(Vec::as_slice)),
                bytes_or_dash(b.get(k).map(Vec::as_slice)),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests;
