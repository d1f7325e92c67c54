//! `relative-names` (unsafe names and one extra top-level folder) and `no-duplicates`.

use std::collections::{BTreeMap, BTreeSet};

use super::property::{v, Property, Violation};
use crate::archive::{DiskTree, Manifest, NameClass};
use crate::layout::RawPath;

/// The member paths, without the root entry, in archive order.
pub(super) fn member_paths(m: &Manifest) -> Vec<&RawPath> {
    m.members
        .iter()
        .filter(|x| !x.is_root_entry())
        .map(|x| &x.path)
        .collect()
}

/// `relative-names`: absolute and `..` names, then a wrong root. Returns the extra top-level
/// folder when every member sits under one (so `fidelity` is not also reported for it).
pub(super) fn check_names(
    m: &Manifest,
    tree: &DiskTree,
    out: &mut Vec<Violation>,
) -> Option<RawPath> {
    for p in m.name_problems() {
        if matches!(p.class, NameClass::Absolute | NameClass::ParentDir) {
            out.push(v(
                Property::RelativeNames,
                Some(p.name.clone()),
                "a name relative to the model dir",
                p.reason,
            ));
        }
    }
    let top = extra_top_folder(m, tree)?;
    out.push(v(
        Property::RelativeNames,
        Some(top.clone()),
        "members at the archive root, with no extra top-level folder",
        format!("every member under `{top}/`"),
    ));
    Some(top)
}

/// One extra top-level folder: every member is under `X/`, and stripping `X/` gives the
/// model dir's own top level.
fn extra_top_folder(m: &Manifest, tree: &DiskTree) -> Option<RawPath> {
    let names = member_paths(m);
    let first = names.first()?;
    let top = first
        .components()
        .next()
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    if top.is_empty() || tree.entries.contains_key(&RawPath::new(top.clone())) {
        return None;
    }
    let all_under = names
        .iter()
        .all(|n| n.components().next() == Some(top.as_slice()));
    let disk_top: BTreeSet<&[u8]> = tree
        .entries
        .keys()
        .filter_map(|k| k.components().next())
        .collect();
    let stripped_top: BTreeSet<&[u8]> =
        names.iter().filter_map(|n| n.components().nth(1)).collect();
    (all_under && !disk_top.is_empty() && stripped_top == disk_top).then(|| RawPath::new(top))
}

/// `no-duplicates`: each member path once.
pub(super) fn check_duplicates(m: &Manifest, out: &mut Vec<Violation>) {
    let mut count: BTreeMap<&RawPath, usize> = BTreeMap::new();
    for x in m.members.iter().filter(|x| !x.is_root_entry()) {
        *count.entry(&x.path).or_default() += 1;
    }
    for (p, n) in count.into_iter().filter(|(_, n)| *n > 1) {
        out.push(v(
            Property::NoDuplicates,
            Some(p.clone()),
            "each member path once",
            format!("{n} members at this path"),
        ));
    }
}
