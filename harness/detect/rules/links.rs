//! Symlink rules: `symlink-escape`, `dangling-symlink`, `symlink-in-model-dir`.

use super::ctx::Ctx;
use crate::detect::code::Code;
use crate::detect::finding::Finding;
use crate::detect::fix::{self, InsideLink};
use crate::detect::tree::{resolve_inside, NodeKind};
use crate::layout::RawPath;
use crate::target::LinkRule;

/// Where a symlink leads.
enum Link {
    /// Absolute, or out of the root.
    Escapes,
    /// Inside, to nothing (a loop never resolves either).
    Dangles,
    /// Inside, to this existing path (empty: the root itself).
    Resolves(RawPath),
}

/// Every symlink of the tree, with its target and where it leads.
fn links<'a>(c: &'a Ctx<'_>) -> impl Iterator<Item = (&'a RawPath, RawPath, Link)> + 'a {
    c.t.nodes
        .iter()
        .filter(|(_, n)| n.kind == NodeKind::Symlink)
        .map(move |(p, n)| {
            let target = n.target.clone().unwrap_or_default();
            let link = match resolve_inside(p, target.as_bytes()) {
                None => Link::Escapes,
                Some(inside) => {
                    let exists = match &c.t.link_resolves {
                        Some(set) => set.contains(p),
                        None => inside.as_bytes().is_empty() || c.t.nodes.contains_key(&inside),
                    };
                    if exists {
                        Link::Resolves(inside)
                    } else {
                        Link::Dangles
                    }
                }
            };
            (p, target, link)
        })
}

/// `symlink-escape`: a link whose target is absolute or leaves the root.
pub(crate) fn symlink_escape(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    let where_ = c.where_();
    for (p, target, link) in links(c) {
        if let Link::Escapes = link {
            out.push(c.finding(
                Code::SymlinkEscape,
                Some(p.clone()),
                format!("symlink `{p}` points outside {where_} (to `{target}`): a packager that follows it packs foreign bytes (the SageMaker SDK does), one that keeps it ships a link that breaks on the endpoint"),
                fix::symlink_escape(c.root, &p.to_string()),
            ));
        }
    }
}

/// `dangling-symlink`: a link inside the root to nothing.
pub(crate) fn dangling_symlink(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (p, target, link) in links(c) {
        if let Link::Dangles = link {
            out.push(c.finding(
                Code::DanglingSymlink,
                Some(p.clone()),
                format!("symlink `{p}` points to `{target}`, which does not exist: SageMaker's create_tar_file crashes on it, other packagers ship a broken link"),
                fix::dangling_symlink(c.root),
            ));
        }
    }
}

/// `symlink-in-model-dir`: a resolving link inside a model dir, on a target that refuses
/// links. An archive's link members are `link-in-archive` (`detect_archive`).
pub(crate) fn symlink_in_model_dir(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    let target_name = c.opts.target;
    if c.in_archive() || target_name.spec().symlinks != LinkRule::Refuse {
        return;
    }
    for (p, target, link) in links(c) {
        let Link::Resolves(inside) = link else {
            continue;
        };
        let ancestor = inside.as_bytes().is_empty()
            || p.as_bytes()
                .starts_with(&[inside.as_bytes(), b"/"].concat());
        let (message, fix) = if ancestor {
            (
                format!("symlink `{p}` points to `{target}`, a directory that contains the link itself: a packager that keeps it ships a link that {target_name} cannot extract, and one that dereferences it loops"),
                fix::symlink_in_model_dir(InsideLink::Ancestor, target_name),
            )
        } else {
            (
                format!("symlink `{p}` points to `{target}` inside the model dir (the Hugging Face cache writes such links): most packagers keep it as a link, and {target_name} cannot extract an archive that holds one"),
                fix::symlink_in_model_dir(
                    if c.t.nodes.get(&inside).is_some_and(|n| n.kind == NodeKind::Dir) {
                        InsideLink::Dir
                    } else {
                        InsideLink::File
                    },
                    target_name,
                ),
            )
        };
        out.push(c.finding(Code::SymlinkInModelDir, Some(p.clone()), message, fix));
    }
}
