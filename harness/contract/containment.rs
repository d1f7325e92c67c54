//! `containment`: only bytes from inside the model dir, and never the archive itself.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use sha2::{Digest as _, Sha256};

use super::property::{v, Property, Violation};
use crate::archive::{DiskTree, Manifest, MemberKind};
use crate::layout::{Digest, Node, RawPath};

/// What `containment` found, for the diagnosis: members holding outside bytes (with the
/// outside file they equal) and members that are a copy of the archive being written.
#[derive(Clone, Debug, Default)]
pub(super) struct Contained {
    /// `(member, the outside file whose bytes it holds)`.
    pub outside: Vec<(RawPath, RawPath)>,
    /// Members whose bytes are the start of the output archive itself.
    pub itself: Vec<RawPath>,
}

impl Contained {
    /// Every member path blamed on containment, so fidelity does not repeat them.
    pub fn blamed(&self) -> BTreeSet<RawPath> {
        self.outside
            .iter()
            .map(|(m, _)| m.clone())
            .chain(self.itself.iter().cloned())
            .collect()
    }
}

/// True when the first `size` bytes of the file at `output` hash to `sha256`: the member is
/// the archive as it was while being written (a gzip stream is written front to back, so a
/// copy taken mid-write is a prefix of the final file).
fn is_prefix_of(output: &Path, size: u64, sha256: &[u8; 32]) -> bool {
    let Ok(f) = crate::archive::open_archive(output) else {
        return false;
    };
    let mut h = Sha256::new();
    let mut r = f.take(size);
    let mut buf = vec![0u8; 64 * 1024];
    let mut read = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                h.update(&buf[..n]);
                read += n as u64;
            }
            Err(_) => return false,
        }
    }
    read == size && <[u8; 32]>::from(h.finalize()) == *sha256
}

/// `containment`: bytes from outside the model dir, and the archive inside itself.
///
/// Self-inclusion is judged by content, never by name: a member that is not in the model
/// dir and whose bytes are the start of the output archive. A model dir that holds its own
/// `model.tar.gz` is packed like any other file.
pub(super) fn check_containment(
    m: &Manifest,
    before: &Digest,
    output: &Path,
    model_tree: &DiskTree,
    out: &mut Vec<Violation>,
) -> Contained {
    let model_prefix = RawPath::from(crate::layout::Root::Model.rel_dir());
    let mut inside: BTreeSet<[u8; 32]> = BTreeSet::new();
    let mut outside: BTreeMap<[u8; 32], &RawPath> = BTreeMap::new();
    for (p, n) in &before.nodes {
        if let Node::File { sha256, size, .. } = n {
            if p.starts_with(&model_prefix) {
                inside.insert(*sha256);
            } else if *size > 0 {
                outside.entry(*sha256).or_insert(p);
            }
        }
    }
    let mut found = Contained::default();
    for x in &m.members {
        if x.kind != MemberKind::File {
            continue;
        }
        let Some(h) = x.sha256 else { continue };
        if !inside.contains(&h) {
            if let Some(src) = outside.get(&h) {
                out.push(v(
                    Property::Containment,
                    Some(x.path.clone()),
                    "only bytes from inside the model dir",
                    format!("the content of `{src}`, which is outside the model dir"),
                ));
                found.outside.push((x.path.clone(), (*src).clone()));
                continue;
            }
        }
        let on_disk = model_tree.entries.contains_key(&x.path);
        if !on_disk && x.size > 0 && is_prefix_of(output, x.size, &h) {
            out.push(v(
                Property::Containment,
                Some(x.path.clone()),
                "the archive not to include itself",
                format!(
                    "a member that is not in the model dir and holds the first {} bytes of the output archive: a copy of the archive as it was being written",
                    x.size
                ),
            ));
            found.itself.push(x.path.clone());
        }
    }
    found
}
