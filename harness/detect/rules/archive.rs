//! `unsafe-member-name`: member names and headers an extractor must not trust.

use crate::archive::{Manifest, MemberKind, NameClass};
use crate::detect::code::Code;
use crate::detect::finding::{finding, Finding, Where};

/// The fix for a name problem of this class.
fn fix_for(class: NameClass) -> &'static str {
    match class {
        NameClass::Absolute | NameClass::ParentDir => {
            "pack with names relative to the model dir (tar -C DIR .)"
        }
        NameClass::Duplicate => "pack each path once; extractors keep only the last copy",
        NameClass::ThroughSymlink => "never pack a path below a symlink; pack the real directory",
        NameClass::Setuid | NameClass::Setgid => {
            "clear the setuid/setgid bits (chmod u-s,g-s) before packing"
        }
        NameClass::LinkEscape => "hard links must point at an earlier member inside the archive",
        NameClass::WindowsDrive | NameClass::Backslash | NameClass::Device => {
            "use portable names: no drive letters, no backslashes"
        }
    }
}

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
            fix_for(p.class),
        ));
    }
}
