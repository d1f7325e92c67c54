//! The consumer's rules before a member is written: the root entry, `..` names, member types
//! and link targets it refuses, where the member lands, and the mode it gets.

use super::place::{split, Place, State};
use super::tree::{RefusalKind, Refused};
use crate::archive::{Member, MemberKind};
use crate::target::{LinkRule, Target};

/// The mode a consumer gives a member of `kind` whose header says `mode`.
pub fn consumer_mode(target: Target, kind: MemberKind, mode: u32) -> u32 {
    match target {
        // SageMaker hosting's extractor is closed; the SDK's own (local mode, `repack_model`)
        // is Python's `data` filter, so its mode rules stand in for it.
        Target::Kserve | Target::Sagemaker => match kind {
            // PEP 706 `data` filter: strip high bits and group/other write; no exec bits
            // unless the owner has one; the owner can always read and write.
            MemberKind::File | MemberKind::Hardlink => {
                let mut m = mode & 0o755;
                if m & 0o100 == 0 {
                    m &= !0o111;
                }
                m | 0o600
            }
            // Ignored for directories: they get the default mode.
            _ => 0o755,
        },
        _ => mode & 0o7777,
    }
}

/// The root entry (`/`, `./`, `.`, ``) names the destination itself: fine as a directory;
/// anything else cannot be created there (GNU tar: "Cannot open: File exists"; Python:
/// IsADirectoryError).
pub(super) fn root_entry(x: &Member, target: Target) -> Result<(), Refused> {
    if x.kind != MemberKind::Dir && target != Target::Sagemaker
        || !matches!(
            x.kind,
            MemberKind::Dir | MemberKind::Symlink | MemberKind::Hardlink
        )
    {
        return Err((
            RefusalKind::Conflict,
            format!("a {} member names the destination itself", x.kind.name()),
        ));
    }
    Ok(())
}

/// A name with a `..` component: refused by GNU tar and SageMaker (KServe resolves it).
pub(super) fn dotdot(parts: &[Vec<u8>], target: Target) -> Result<(), Refused> {
    let has_dotdot = parts.iter().any(|c| c == b"..");
    if has_dotdot && target != Target::Kserve {
        return Err((
            RefusalKind::Name,
            match target {
                Target::Posix => "Member name contains '..'".into(),
                _ => "a member name with `..` would land outside /opt/ml/model".into(),
            },
        ));
    }
    Ok(())
}

/// Member types the consumer does not take.
pub(super) fn member_type(x: &Member, target: Target) -> Result<(), Refused> {
    let spec = target.spec();
    let type_refusal = match x.kind {
        MemberKind::Symlink | MemberKind::Hardlink => {
            let rule = if x.kind == MemberKind::Symlink {
                spec.symlinks
            } else {
                spec.hardlinks
            };
            (rule == LinkRule::Refuse).then(|| {
                format!(
                    "a {} member: SageMaker hosting cannot extract links (\"Failed to extract model data archive\")",
                    x.kind.name()
                )
            })
        }
        MemberKind::Fifo | MemberKind::CharDevice | MemberKind::BlockDevice => (!spec.specials)
            .then(|| match target {
                Target::Kserve => format!("SpecialFileError: {} is a special file", x.path),
                _ => format!("a {} member cannot be extracted by {target}", x.kind.name()),
            }),
        MemberKind::Other(t) if target == Target::Sagemaker => {
            Some(format!("a member of unknown type `{}`", t.escape_ascii()))
        }
        _ => None,
    };
    match type_refusal {
        Some(msg) => Err((RefusalKind::MemberType, msg)),
        None => Ok(()),
    }
}

/// Link targets the consumer refuses: absolute, or resolving outside the destination (only
/// where links are kept when they stay inside).
pub(super) fn link_target(st: &State, x: &Member, parts: &[Vec<u8>]) -> Result<(), Refused> {
    let Some(t) = &x.link_target else {
        return Ok(());
    };
    let t = t.as_bytes();
    if st.target.spec().symlinks != LinkRule::KeepInside
        || !matches!(x.kind, MemberKind::Symlink | MemberKind::Hardlink)
    {
        return Ok(());
    }
    if t.starts_with(b"/") {
        return Err((
            RefusalKind::LinkTarget,
            format!(
                "AbsoluteLinkError: {} is a link to an absolute path",
                x.path
            ),
        ));
    }
    let mut hops = 0;
    let from: Vec<Vec<u8>> = if x.kind == MemberKind::Symlink {
        let mut p = parts.to_vec();
        p.pop();
        p.extend(split(t));
        p
    } else {
        split(t)
    };
    if matches!(st.place(&from, true, &mut hops), Place::Outside) {
        return Err((
            RefusalKind::LinkTarget,
            format!(
                "LinkOutsideDestinationError: {} would link to a path outside the destination",
                x.path
            ),
        ));
    }
    Ok(())
}

/// Where the member lands; `None` for the destination itself (nothing to write).
pub(super) fn landing(
    st: &State,
    x: &Member,
    parts: &[Vec<u8>],
) -> Result<Option<Vec<Vec<u8>>>, Refused> {
    let mut hops = 0;
    let follow_last = st.target == Target::Kserve && x.kind == MemberKind::File;
    match st.place(parts, follow_last, &mut hops) {
        Place::At(at) if !at.is_empty() => Ok(Some(at)),
        Place::At(_) => Ok(None),
        Place::Outside => Err((
            RefusalKind::Name,
            match st.target {
                Target::Kserve => format!(
                    "OutsideDestinationError: {} would be extracted to a path outside the destination",
                    x.path
                ),
                _ => format!("`{}` would land outside the destination", x.path),
            },
        )),
        Place::Through(link) => Err((
            RefusalKind::Through,
            format!("Cannot open: `{link}` is a symlink the extractor does not follow"),
        )),
    }
}
