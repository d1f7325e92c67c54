//! `containment`: only bytes from inside the model dir, and never the archive itself.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::property::{v, Property, Violation};
use crate::archive::{DiskTree, Manifest, MemberKind};
use crate::layout::{Digest, Node, RawPath};

/// `containment`: bytes from outside the model dir, and the archive inside itself.
/// Returns the member paths blamed on containment, so fidelity does not repeat them.
pub(super) fn check_containment(
    m: &Manifest,
    before: &Digest,
    output: &Path,
    model_tree: &DiskTree,
    out: &mut Vec<Violation>,
) -> BTreeSet<RawPath> {
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
    let mut blamed = BTreeSet::new();
    let out_name = output
        .file_name()
        .map(|n| n.as_encoded_bytes().to_vec())
        .unwrap_or_default();
    for x in &m.members {
        if x.kind != MemberKind::File {
            continue;
        }
        if let Some(h) = x.sha256 {
            if !inside.contains(&h) {
                if let Some(src) = outside.get(&h) {
                    out.push(v(
                        Property::Containment,
                        Some(x.path.clone()),
                        "only bytes from inside the model dir",
                        format!("the content of `{src}`, which is outside the model dir"),
                    ));
                    blamed.insert(x.path.clone());
                    continue;
                }
            }
        }
        let name = x.path.file_name();
        let on_disk = model_tree.entries.contains_key(&x.path);
        if !on_disk
            && (name == out_name.as_slice()
                || name.ends_with(b".partial")
                || name.starts_with(b".packtest-"))
        {
            out.push(v(
                Property::Containment,
                Some(x.path.clone()),
                "the archive not to include itself",
                "a member named like the output archive, which is not in the model dir",
            ));
            blamed.insert(x.path.clone());
        }
    }
    blamed
}
