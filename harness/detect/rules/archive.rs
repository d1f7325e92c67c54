//! `unsafe-member-name`: member names and headers an extractor must not trust.

use crate::archive::{Manifest, MemberKind};
use crate::detect::code::Code;
use crate::detect::finding::{finding, Finding, Where};

/// The fix for a name problem of this class.
fn fix_for(class: &str) -> &'static str {
    match class {
        "absolute" | "parent-dir" => "pack with names relative to the model dir (tar -C DIR .)",
        "duplicate" => "pack each path once; extractors keep only the last copy",
        "through-symlink" => "never pack a path below a symlink; pack the real directory",
        "setuid" | "setgid" => "clear the setuid/setgid bits (chmod u-s,g-s) before packing",
        "link-escape" => "hard links must point at an earlier member inside the archive",
        _ => "use portable names: no drive letters, no backslashes",
    }
}

/// `unsafe-member-name`: every name problem of the manifest, except escaping symlinks and
/// device nodes, which have their own findings from the tree rules (`symlink-escape`,
/// `special-file`).
pub(crate) fn unsafe_member_names(manifest: &Manifest, out: &mut Vec<Finding>) {
    for p in manifest.name_problems() {
        let kind = manifest.members.get(p.index).map(|m| m.kind);
        if p.class == "device" || (p.class == "link-escape" && kind == Some(MemberKind::Symlink)) {
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
