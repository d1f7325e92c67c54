//! `unsafe-member-name`: member names and headers an extractor must not trust.

use crate::archive::{Manifest, MemberKind, NameClass};
use crate::detect::code::Code;
use crate::detect::finding::{finding, Finding, Where};

/// `unsafe-member-name`: every name problem of the manifest, except escaping symlinks and
/// device nodes, which have their own findings from the tree rules (`symlink-escape`,
/// `special-file`).
pub(crate) fn unsafe_member_names(manifest: &Manifest, out: &mut Vec<Finding>) {
    for p in manifest.name_problems() {
        let kind = manifest.members.get(p.index).map(|m| m.kind);
        if p.class == NameClass::Device
            || (p.class == NameClass::LinkEscape && kind == Some(MemberKind::Symlink))
        {
            continue;
        }
        out.push(finding(
            Code::UnsafeMemberName,
            Where::Archive,
            Some(p.name.clone()),
            format!("member `{}`: {} ({})", p.name, p.reason, p.class),
            crate::detect::fix::unsafe_member_name(p.class),
        ));
    }
}
