//! Pitfall pieces made of links: symlinks inside the model dir (to files, to dirs, to an
//! ancestor, in a loop), escaping and dangling symlinks, and hard links.

use crate::detect::{Code, Where};
use proptest::prelude::*;

use crate::layout::{Content, Entry, EntryKind, Fill, Root};

use super::super::piece::{piece, seed, stem, Piece};
use super::super::truth::{Promise, When};

/// A symlink inside the model dir to an existing file (possibly from a subdir).
pub(super) fn symlink_inside() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    (stem(), seed(), any::<bool>())
        .prop_map(move |(s, sd, in_dir)| {
            let (link, target) = if in_dir {
                (format!("links/{s}-link"), format!("../{s}.dat"))
            } else {
                (format!("{s}-link"), format!("{s}.dat"))
            };
            piece(
                &["symlink-inside", Code::SymlinkInModelDir.id()],
                vec![
                    Entry::file(m, format!("{s}.dat"), Content::random(sd, 100)),
                    Entry::symlink(m, link.clone(), target),
                ],
            )
            .promising(Promise::inside_link(link))
        })
        .sboxed()
}

/// Links inside that are not plain file links: to a dir (`latest -> checkpoint-500`),
/// to an ancestor (`sub/up -> ..`), and a loop that never resolves.
pub(super) fn odd_inside_link() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    (stem(), seed(), 0u8..3)
        .prop_map(move |(s, sd, variant)| match variant {
            0 => piece(
                &[
                    "symlink-inside",
                    "symlink-to-dir",
                    Code::SymlinkInModelDir.id(),
                ],
                vec![
                    Entry::file(m, format!("{s}d/part.dat"), Content::random(sd, 64)),
                    Entry::symlink(m, format!("{s}-latest"), format!("{s}d")),
                ],
            )
            .promising(Promise::inside_link(format!("{s}-latest"))),
            1 => piece(
                &["dir-cycle", Code::SymlinkInModelDir.id()],
                vec![Entry::symlink(m, format!("{s}c/up"), "..")],
            )
            .promising(Promise::inside_link(format!("{s}c/up"))),
            _ => piece(
                &["link-loop", Code::DanglingSymlink.id()],
                vec![
                    Entry::symlink(m, format!("{s}-a"), format!("{s}-b")),
                    Entry::symlink(m, format!("{s}-b"), format!("{s}-a")),
                ],
            )
            .promising(["a", "b"].into_iter().flat_map(|x| {
                let link = format!("{s}-{x}");
                [
                    Promise::model(Code::DanglingSymlink, link.clone()),
                    Promise::link_member(link, false),
                ]
            })),
        })
        .sboxed()
}

/// A symlink that escapes the model dir: to `outside/`, to the input data, or absolute.
pub(super) fn symlink_escape() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    (stem(), seed(), 0u8..3)
        .prop_map(move |(s, sd, variant)| escaping_link(m, &s, sd, variant))
        .sboxed()
}

/// Variant `variant` of [`symlink_escape`], with its promises: `symlink-escape` on the link,
/// and `link-in-archive` on its member wherever links are refused or must stay inside.
fn escaping_link(m: Root, s: &str, sd: u64, variant: u8) -> Piece {
    let p = match variant {
        0 => piece(
            &[Code::SymlinkEscape.id()],
            vec![
                Entry::file(
                    Root::Outside,
                    format!("{s}.secret"),
                    Content::random(sd, 64),
                ),
                Entry::symlink(
                    m,
                    format!("{s}-out"),
                    format!("../../../outside/{s}.secret"),
                ),
            ],
        ),
        1 => piece(
            &[Code::SymlinkEscape.id()],
            vec![
                Entry::file(
                    Root::Input,
                    format!("{s}.csv"),
                    Content::Seeded {
                        seed: sd,
                        size: 200,
                        fill: Fill::Text,
                    },
                ),
                Entry::symlink(
                    m,
                    format!("{s}-data"),
                    format!("../input/data/train/{s}.csv"),
                ),
            ],
        ),
        _ => piece(
            &[Code::SymlinkEscape.id()],
            vec![Entry::symlink(
                m,
                format!("{s}-abs"),
                "/nonexistent-packtest-target/x",
            )],
        ),
    };
    let links: Vec<_> = p
        .entries
        .iter()
        .filter(|e| e.root == m && matches!(e.kind, EntryKind::Symlink { .. }))
        .map(|e| e.path.clone())
        .collect();
    p.promising(links.into_iter().flat_map(|l| {
        [
            Promise::new(
                Code::SymlinkEscape,
                Where::Model,
                Some(l.clone()),
                When::Always,
            ),
            Promise::link_member(l, true),
        ]
    }))
}

/// A symlink to a file that does not exist.
pub(super) fn dangling_symlink() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    stem()
        .prop_map(move |s| {
            piece(
                &[Code::DanglingSymlink.id()],
                vec![Entry::symlink(
                    m,
                    format!("{s}-dangling"),
                    format!("{s}-missing.bin"),
                )],
            )
            .promising([
                Promise::model(Code::DanglingSymlink, format!("{s}-dangling")),
                Promise::link_member(format!("{s}-dangling"), false),
            ])
        })
        .sboxed()
}

/// A file and a hard link to it.
pub(super) fn hardlink() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    (stem(), seed())
        .prop_map(move |(s, sd)| {
            piece(
                &["hardlink"],
                vec![
                    Entry::file(m, format!("{s}.w"), Content::random(sd, 300)),
                    Entry::hardlink(m, format!("{s}.w.link"), format!("{s}.w")),
                ],
            )
            // The second name of the inode is the link member: the walk sorts `x.w` first.
            .promising([Promise::new(
                Code::LinkInArchive,
                Where::Archive,
                Some(format!("{s}.w.link").into()),
                When::HardlinkMember,
            )])
        })
        .sboxed()
}
