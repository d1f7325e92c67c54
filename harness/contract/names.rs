//! `relative-names` (unsafe names and one extra top-level folder) and `no-duplicates`.

use std::collections::BTreeMap;
use std::path::Path;

use super::diagnosis::WrongRoot;
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

/// `relative-names`: absolute and `..` names, then a wrong root. Returns the wrong root when
/// every member sits under one (the rest of the contract judges the names without it).
pub(super) fn check_names(
    m: &Manifest,
    tree: &DiskTree,
    model_dir: &Path,
    out: &mut Vec<Violation>,
) -> Option<WrongRoot> {
    if let Some(prefix) = absolute_model_dir_prefix(m, model_dir) {
        out.push(v(
            Property::RelativeNames,
            Some(prefix.clone()),
            "names relative to the model dir",
            "the archive holds the model dir's absolute path; use `-C {model_dir} .` (as in \
             `tar -czf {output} -C {model_dir} .`)",
        ));
        return Some(WrongRoot::Absolute(prefix));
    }
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
    Some(WrongRoot::Folder(top))
}

/// The model dir's absolute path (without its leading `/`, as GNU tar strips it) when every
/// member is that dir, one of its parents, or under it: the packager archived the model dir
/// by its absolute path (`tar -czf {output} {model_dir}`, the classic missing `-C`).
fn absolute_model_dir_prefix(m: &Manifest, model_dir: &Path) -> Option<RawPath> {
    use std::os::unix::ffi::OsStrExt;
    let trim = |b: &[u8]| -> Vec<u8> {
        let b = b.strip_prefix(b"./").unwrap_or(b);
        let b = b.strip_suffix(b"/").unwrap_or(b);
        let start = b.iter().position(|&c| c != b'/').unwrap_or(b.len());
        b[start..].to_vec()
    };
    let prefix = trim(model_dir.as_os_str().as_bytes());
    if prefix.is_empty() {
        return None;
    }
    let names: Vec<Vec<u8>> = m
        .members
        .iter()
        .filter(|x| !x.is_root_entry())
        .map(|x| trim(x.path.as_bytes()))
        .collect();
    let mut under = prefix.clone();
    under.push(b'/');
    let parent_or_self =
        |n: &[u8]| prefix.starts_with(n) && (n.len() == prefix.len() || prefix[n.len()] == b'/');
    let fits = |n: &Vec<u8>| n.starts_with(&under) || parent_or_self(n);
    (!names.is_empty() && names.iter().all(fits) && names.iter().any(|n| n.starts_with(&under)))
        .then(|| RawPath::new(prefix))
}

/// One extra top-level folder: every member is under `X/`, and more member names match the
/// model dir with `X/` removed than as they are. That covers a model dir whose own top level
/// holds a dir of the same name (`model/model/…`), and an archive that leaves out what may be
/// left out (a socket). An empty model dir packed under a folder (the folder alone) counts
/// too.
fn extra_top_folder(m: &Manifest, tree: &DiskTree) -> Option<RawPath> {
    let names = member_paths(m);
    let first = names.first()?;
    let top = first.components().next().map(<[u8]>::to_vec)?;
    if top.is_empty()
        || !names
            .iter()
            .all(|n| n.components().next() == Some(top.as_slice()))
    {
        return None;
    }
    let top = RawPath::new(top);
    // The folder is a dir: a lone file member is not a folder to strip.
    let is_dir = |p: &RawPath| {
        m.members
            .iter()
            .filter(|x| &x.path == p)
            .all(|x| x.kind == crate::archive::MemberKind::Dir)
    };
    if !is_dir(&top) {
        return None;
    }
    if tree.entries.is_empty() {
        // An empty model dir packed under a folder: the folder (and dirs) alone.
        let dirs_only = m
            .members
            .iter()
            .all(|x| x.kind == crate::archive::MemberKind::Dir);
        return dirs_only.then_some(top);
    }
    let plain = names
        .iter()
        .filter(|n| tree.entries.contains_key(*n))
        .count();
    let stripped = names
        .iter()
        .filter_map(|n| {
            let rest = n.as_bytes().get(top.as_bytes().len() + 1..)?;
            (!rest.is_empty()).then(|| RawPath::new(rest.to_vec()))
        })
        .filter(|n| tree.entries.contains_key(n))
        .count();
    (stripped > plain).then_some(top)
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
