//! What the target's consumer makes of the archive: `member-types` (what it refuses) and
//! `fidelity` / `special-files` (what it extracts against the tree it must end up with).

use std::collections::BTreeSet;

use super::property::{capped, v, Property, Violation, MAX_DETAILS};
use crate::archive::{normalize_name, DiffItem, DiskKind, Manifest};
use crate::layout::RawPath;
use crate::target::extract::RefusalKind;
use crate::target::{Expected, Extraction, Gap};

/// `member-types`: the members the target's consumer refuses by type or by link target.
/// Returns their paths, so `fidelity` does not repeat them.
pub(super) fn check_member_types(ex: &Extraction, out: &mut Vec<Violation>) -> BTreeSet<RawPath> {
    let spec = ex.target.spec();
    let mut blamed = BTreeSet::new();
    let refused: Vec<_> = ex
        .refusals
        .iter()
        .filter(|r| matches!(r.kind, RefusalKind::MemberType | RefusalKind::LinkTarget))
        .collect();
    for r in refused.iter().take(MAX_DETAILS) {
        out.push(v(
            Property::MemberTypes,
            Some(r.name.clone()),
            format!("only {} (what {} extracts)", spec.accepts, ex.target),
            r.message.clone(),
        ));
    }
    if refused.len() > MAX_DETAILS {
        out.push(v(
            Property::MemberTypes,
            None,
            format!("only {} (what {} extracts)", spec.accepts, ex.target),
            format!("{} more refused members", refused.len() - MAX_DETAILS),
        ));
    }
    blamed.extend(refused.iter().map(|r| r.name.clone()));
    blamed
}

/// `fidelity`: hard links the consumer cannot make because the member they name was not
/// extracted before them: placed after the link (GNU tar and Python's tarfile extract in
/// archive order and fail on it), or absent. Returns their paths, so the file the consumer
/// lacks there is not repeated as a difference.
pub(super) fn check_link_order(
    m: &Manifest,
    ex: &Extraction,
    out: &mut Vec<Violation>,
) -> BTreeSet<RawPath> {
    let missing: Vec<_> = ex
        .refusals
        .iter()
        .filter(|r| r.kind == RefusalKind::LinkMissing)
        .collect();
    for r in missing.iter().take(MAX_DETAILS) {
        let target = m
            .members
            .get(r.member)
            .and_then(|x| x.link_target.as_ref())
            .map(|t| normalize_name(t.as_bytes()));
        let later = target
            .as_ref()
            .is_some_and(|t| m.members.iter().skip(r.member + 1).any(|y| &y.path == t));
        let mut x = v(
            Property::Fidelity,
            Some(r.name.clone()),
            format!(
                "each hard link after the member it links to ({} extracts in archive order)",
                ex.target
            ),
            r.message.clone(),
        );
        if let (true, Some(t)) = (later, &target) {
            x.details = vec![format!("`{t}` comes after the link in the archive")];
        }
        out.push(x);
    }
    if missing.len() > MAX_DETAILS {
        out.push(v(
            Property::Fidelity,
            None,
            "each hard link after the member it links to",
            format!(
                "{} more hard links to members not extracted yet",
                missing.len() - MAX_DETAILS
            ),
        ));
    }
    missing.iter().map(|r| r.name.clone()).collect()
}

/// What `fidelity` and `special-files` found, for the diagnosis.
#[derive(Clone, Debug, Default)]
pub(super) struct Gaps {
    /// The differences listed in the one `fidelity` difference violation.
    pub items: Vec<DiffItem>,
    /// Paths the packager had to refuse and did not: the path, what it is on disk, and what
    /// the consumer got there instead (`None`: left out).
    pub not_refused: Vec<(RawPath, DiskKind, Option<String>)>,
    /// FIFOs and devices the consumer lacks: the path and what it got instead (`None`:
    /// dropped).
    pub specials: Vec<(RawPath, Option<String>)>,
}

/// `fidelity` and `special-files`: what the consumer extracts against the expected tree,
/// leaving out the paths `blamed` on another property.
pub(super) fn check_fidelity(
    expected: &Expected,
    ex: &Extraction,
    blamed: &BTreeSet<RawPath>,
    out: &mut Vec<Violation>,
) -> Gaps {
    let mut gaps = Gaps::default();
    let mut items = Vec::new();
    for gap in crate::target::compare(expected, &ex.tree) {
        // A member blamed elsewhere takes what lies under it along (a link to a dir).
        if blamed.contains(gap.path()) || blamed.iter().any(|b| gap.path().starts_with(b)) {
            continue;
        }
        match gap {
            Gap::NotRefused {
                path,
                kind,
                reason,
                found,
            } => {
                gaps.not_refused.push((path.clone(), kind, found.clone()));
                let found = match found {
                    None => "the packager succeeded and silently left it out".to_string(),
                    Some(f) => format!("the packager succeeded and stored a {f}"),
                };
                let prop = if kind.is_special() {
                    Property::SpecialFiles
                } else {
                    Property::Fidelity
                };
                out.push(v(
                    prop,
                    Some(path),
                    format!("a loud failure: {reason}"),
                    found,
                ));
            }
            Gap::Diff(DiffItem::Missing { path, kind }) if kind.is_special() => {
                gaps.specials.push((path.clone(), None));
                out.push(v(
                    Property::SpecialFiles,
                    Some(path),
                    format!("the {kind:?} stored as its type, or a loud failure"),
                    "silently dropped",
                ))
            }
            Gap::Diff(DiffItem::Kind {
                path,
                expected,
                found,
            }) if expected.is_special() => {
                gaps.specials.push((path.clone(), Some(found.clone())));
                out.push(v(
                    Property::SpecialFiles,
                    Some(path),
                    format!("the {expected:?} stored as its type"),
                    format!("a {found} (was it read?)"),
                ))
            }
            Gap::Diff(d) => items.push(d),
        }
    }
    if items.is_empty() {
        return gaps;
    }
    let path = items[0].path().clone();
    let mut x = v(
        Property::Fidelity,
        Some(path),
        format!(
            "what {}'s consumer extracts to equal the model dir (`packtest contract`)",
            expected.target
        ),
        format!("{} difference(s)", items.len()),
    );
    x.details = capped(items.iter().map(ToString::to_string));
    out.push(x);
    gaps.items = items;
    gaps
}
